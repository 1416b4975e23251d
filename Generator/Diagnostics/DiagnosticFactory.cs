// Turns diagnostics-as-data back into Roslyn diagnostics, at the very end of the pipeline.
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Generator.Diagnostics
{
    internal static class DiagnosticFactory
    {
        public static Diagnostic ToDiagnostic(this DiagnosticInfo info) =>
            Diagnostic.Create(DiagnosticDescriptors.ForId(info.Id), info.Location.ToLocation(), info.Message);

        /// <summary>As <see cref="ToDiagnostic(DiagnosticInfo)"/>, but located in <paramref name="compilation"/>'s syntax tree
        /// for the file when it has one, so that #pragma warning disable and [SuppressMessage] apply.</summary>
        public static Diagnostic ToDiagnostic(this DiagnosticInfo info, Compilation compilation) =>
            Diagnostic.Create(DiagnosticDescriptors.ForId(info.Id), info.Location.ToLocation(compilation), info.Message);

        public static Location ToLocation(this LocationInfo info, Compilation compilation)
        {
            if (info.FilePath.Length > 0)
            {
                foreach (SyntaxTree tree in compilation.SyntaxTrees)
                {
                    if (tree.FilePath == info.FilePath && info.Start + info.Length <= tree.Length)
                        return Location.Create(tree, new TextSpan(info.Start, info.Length));
                }
            }
            return info.ToLocation();
        }

        public static Location ToLocation(this LocationInfo info) =>
            info.FilePath.Length == 0 && info.Length == 0
                ? Location.None
                : Location.Create(info.FilePath, new TextSpan(info.Start, info.Length),
                    new LinePositionSpan(new LinePosition(info.StartLine, info.StartCharacter), new LinePosition(info.EndLine, info.EndCharacter)));

        public static LocationInfo ToLocationInfo(this Location location)
        {
            if (location.SourceTree is null) return LocationInfo.None;
            FileLinePositionSpan line = location.GetLineSpan();
            return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan.Start, location.SourceSpan.Length,
                line.StartLinePosition.Line, line.StartLinePosition.Character, line.EndLinePosition.Line, line.EndLinePosition.Character);
        }
    }
}
