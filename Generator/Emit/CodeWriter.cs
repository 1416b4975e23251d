// A small indented text writer for generated C# (IndentedTextWriter's idea, with block helpers).
using System.Text;

namespace CnnGen.Generator.Emit
{
    internal sealed class CodeWriter
    {
        private readonly StringBuilder _text = new();
        private int _indent;

        public CodeWriter Line(string line = "")
        {
            if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
            _text.Append('\n');
            return this;
        }

        /// <summary>Writes <paramref name="header"/> and an opening brace, and indents.</summary>
        public CodeWriter Open(string header)
        {
            if (header.Length > 0) Line(header);
            Line("{");
            _indent++;
            return this;
        }

        public CodeWriter Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
            return this;
        }

        /// <summary>Appends pre-indented text (another writer's output) at the current indentation.</summary>
        public CodeWriter Block(string text)
        {
            foreach (string line in text.TrimEnd('\n').Split('\n')) Line(line);
            return this;
        }

        public override string ToString() => _text.ToString();
    }

    /// <summary>One generated kernel set: the vector type and its width in floats.</summary>
    internal sealed record IsaTarget(string Name, string Vec, int Width)
    {
        public static readonly IsaTarget Avx512 = new("Avx512", "Vector512", 16);
        public static readonly IsaTarget Avx2 = new("Avx2", "Vector256", 8);
        public static readonly IsaTarget Portable = new("Portable", "Vector128", 4);
        public static readonly IsaTarget[] All = { Avx512, Avx2, Portable };

        /// <summary>The vector type, e.g. <c>Vector512&lt;float&gt;</c>.</summary>
        public string V => Vec + "<float>";
    }
}
