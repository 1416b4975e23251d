// Declarations the generator fuzzer (Generator.Fuzz) found mishandled, kept as regression tests: each must get the
// stated diagnostic from both the generator and the analyzer (never CNN0099 or a crash), or compile cleanly.
using System.Globalization;
using System.Linq;
using CnnGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace CnnGen.Tests.Generator
{
    public class FuzzFindingsTests
    {
        private const string Header = "using CnnGen;\nnamespace Sample;\n";

        /// <summary>Both the generator and the analyzer report exactly one diagnostic, with this id and message, on the
        /// text <paramref name="on"/>; no code is generated.</summary>
        private static void AssertReported(string source, string id, string message, string on)
        {
            GeneratorRun run = GeneratorHarness.Run(source);
            Assert.Null(run.GeneratorException);
            AnalyzerRun analyzer = GeneratorHarness.RunAnalyzer(source);
            Assert.Empty(analyzer.Exceptions);
            foreach ((string who, Diagnostic d) in new[] { ("generator", Assert.Single(run.GeneratorDiagnostics)), ("analyzer", Assert.Single(analyzer.Diagnostics)) })
            {
                Assert.True(d.Id == id, $"{who}: {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}");
                Assert.Equal(message, d.GetMessage(CultureInfo.InvariantCulture));
                Assert.Equal(on, source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
            }
            Assert.Empty(run.Sources);
        }

        /// <summary>Use&lt;Identity&gt; threw a NullReferenceException (CNN0099); it is the identity, as the docs say.</summary>
        [Fact]
        public void UseOfIdentityIsTheIdentity()
        {
            GeneratorRun run = GeneratorHarness.Run(Header + """
                [Network(Channels = 2, Height = 6, Width = 6)]
                [Conv2D(3, 3), Use<Identity>, Use<Identity>(Repeat = 2), Residual<Identity>, Flatten, Dense(4)]
                public partial class Net;
                """);
            Assert.Empty(run.GeneratorDiagnostics);
            Assert.Empty(run.OutputErrors);
            Assert.Empty(run.GeneratedCodeWarnings);
            string code = Assert.Single(run.Sources).Text;
            Assert.Contains("public const int OutputSize = 4;", code);
            // conv 3x4x4 = 48 floats reach the dense layer: the identity uses changed nothing, the residual doubled the values.
            Assert.Contains("new LayerInfo(\"flatten1\", \"Flatten\", new[] { 48 }, 0)", code);
        }

        /// <summary>A network of identities ending in Softmax put Softmax on the raw input, and the emitter indexed the
        /// layer "before" it (IndexOutOfRangeException, CNN0099, found by the fuzzer as case 783). Now CNN0012 on [Network].</summary>
        [Theory]
        [InlineData("[Use<Identity>, Softmax]", " and a Softmax on the raw input")]
        [InlineData("[Use<Identity>]", "")]
        [InlineData("[Use<Identity>(Repeat = 3), Use<Identity>]", "")]
        public void NetworkOfIdentitiesIsReportedNotEmitted(string layers, string softmax)
        {
            string source = Header + "[Network(Channels = 1, Height = 10, Width = 10)]\n" + layers + "\npublic partial class Net;\n";
            AssertReported(source, "CNN0012",
                $"Network 'Net' computes nothing from its input: its layers are identities{softmax}; add layers that compute class scores, such as [Flatten, Dense(10)]",
                "Network(Channels = 1, Height = 10, Width = 10)");
        }

        /// <summary>Use&lt;B&gt;(null) passes a null params array, whose Values threw while parsing (CNN0099, fuzz case 1159).</summary>
        [Fact]
        public void NullUseSiteArgumentArrayIsAnArgumentError()
        {
            string source = Header + """
                [Block("n")]
                [Conv2D("n", 1)]
                public class B1;
                [Network(Channels = 4, Height = 4, Width = 4)]
                [Use<B1>(null), Flatten, Dense(2)]
                public partial class Net;
                """;
            AssertReported(source, "CNN0003", "Use<B1>(null) at layer 1: argument 1 must be a number, but is null", "Use<B1>(null)");
        }

        /// <summary>[Block(null)] (a null params array) threw while parsing the block (CNN0099).</summary>
        [Fact]
        public void BlockWithANullParameterList() => AssertReported(Header + """
            [Block(null)]
            [ReLU]
            public class Body;
            [Network(Channels = 2, Height = 4, Width = 4)]
            [Use<Body>, Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0016",
            "[Block] on Body: the parameter list is null; write [Block] for no parameters, or [Block(\"width\", \"stride = 1\")]", "Body");

        /// <summary>A bool where a size goes (the argument is typed object so that it can name a block parameter) was
        /// silently taken as 1 filter.</summary>
        [Fact]
        public void BoolAsASizeIsAMistake() => AssertReported(Header + """
            [Network(Channels = 2, Height = 4, Width = 4)]
            [Conv2D(true, 3), Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0003", "Conv2D(true, 3) at layer 1: filters must be a number or a block parameter name, but is true", "Conv2D(true, 3)");

        /// <summary>A bool at a block's use site was bound as 0/1.</summary>
        [Fact]
        public void BoolAsABlockArgumentIsAMistake() => AssertReported(Header + """
            [Block("width")]
            [Conv2D("width", 1)]
            public class Body;
            [Network(Channels = 2, Height = 4, Width = 4)]
            [Use<Body>(false), Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0003", "Use<Body>(false) at layer 1: argument 1 must be a number, but is false", "Use<Body>(false)");

        /// <summary>An input of 3 x 100000 x 100000 floats passed the checker, and the emitted `const int InputSize` did not compile.</summary>
        [Fact]
        public void InputTooLargeForTheMemoryPlan() => AssertReported(Header + """
            [Network(Channels = 3, Height = 100000, Width = 100000)]
            [ReLU]
            public partial class Net;
            """, "CNN0003",
            "[Network] on 'Net' gives an input of 30,000,000,000 floats per image (Channels = 3, Height = 100000, Width = 100000); a network's memory plan addresses at most 2,147,483,647",
            "Network(Channels = 3, Height = 100000, Width = 100000)");

        /// <summary>Dense(int.MaxValue) passed the checker; its arena offsets overflowed the generated nint constants.</summary>
        [Fact]
        public void LayerTooLargeForTheMemoryPlan() => AssertReported(Header + """
            [Network(Channels = 1, Height = 4, Width = 4)]
            [Flatten, Dense(int.MaxValue)]
            public partial class Net;
            """, "CNN0003",
            "Dense(int.MaxValue) at layer 2 makes the network too large: its output 2147483647 and everything before it need more than 2,147,483,647 floats per image (activations, gradients, im2col columns and parameters); use smaller sizes",
            "Dense(int.MaxValue)");

        /// <summary>n - k + 2p overflowed int for a huge padding, giving a wrong CNN0002 (and a wrong CNN0009 remainder).</summary>
        [Fact]
        public void HugePaddingDoesNotOverflowTheSizeArithmetic() => AssertReported(Header + """
            [Network(Channels = 1, Height = 4, Width = 4)]
            [Conv2D(1, 1, Padding = 1073741824)]
            public partial class Net;
            """, "CNN0003",
            "Conv2D(1, 1, Padding = 1073741824) at layer 1 makes the network too large: its output 2147483647x2147483647x1 and everything before it need more than 2,147,483,647 floats per image (activations, gradients, im2col columns and parameters); use smaller sizes",
            "Conv2D(1, 1, Padding = 1073741824)");

        /// <summary>A non-constant attribute argument is the compiler's error (CS0182); the generator must not add an internal error.</summary>
        [Fact]
        public void NonConstantArgumentIsLeftToTheCompiler()
        {
            string source = Header + """
                [Network(Channels = 1, Height = 4, Width = 4)]
                [Conv2D(4, 3, Stride = int.Parse("2")), Flatten, Dense(2)]
                public partial class Net;
                """;
            GeneratorRun run = GeneratorHarness.Run(source);
            Assert.Null(run.GeneratorException);
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id is "CNN0099" or "CS8784" or "CS8785");
            Assert.Contains(run.OutputErrors, d => d.Id == "CS0182");
            AnalyzerRun analyzer = GeneratorHarness.RunAnalyzer(source);
            Assert.Empty(analyzer.Exceptions);
            Assert.DoesNotContain(analyzer.Diagnostics, d => d.Id is "CNN0099" or "AD0001");
        }
    }
}
