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
