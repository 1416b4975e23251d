// Golden output: the full generated source of a small network, compared with Snapshots/*.verified.cs.
// A change to the emitter shows up here as a reviewable diff (see DEVELOPERS.md, "Snapshot tests").
using System.Linq;
using CnnGen.Tests.Infrastructure;

namespace CnnGen.Tests.Generator
{
    public class SnapshotTests
    {
        [Fact]
        public void SmallNet()
        {
            GeneratorRun run = GeneratorHarness.Run("""
                using CnnGen;
                namespace Sample;

                [Network(Channels = 1, Height = 8, Width = 8)]
                [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
                [Flatten, Dense(3), Softmax]
                public partial class SmallNet;
                """);
            Assert.Empty(run.GeneratorDiagnostics);
            Assert.Empty(run.OutputErrors);
            GeneratedSource source = Assert.Single(run.Sources);
            Assert.Equal("Sample.SmallNet.g.cs", source.HintName);
            Snapshot.Verify(source.Text);
        }

        /// <summary>A graph network: a user block with a parameter in a residual with an identity shortcut, a
        /// concat with the input, BatchNorm (folded into its conv for inference), and global average pooling.</summary>
        [Fact]
        public void SmallResidualNet()
        {
            GeneratorRun run = GeneratorHarness.Run("""
                using CnnGen;
                namespace Sample;

                [Block("width")]
                [Conv2D("width", 3, Padding = 1, Bias = false), BatchNorm, ReLU]
                public class Unit;

                [Network(Channels = 2, Height = 6, Width = 6)]
                [Conv2D(4, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
                [Residual<Unit>(4), ReLU, Concat<Identity, Unit>(2)]
                [GlobalAvgPool, Dense(3), Softmax]
                public partial class SmallResidualNet;
                """);
            Assert.Empty(run.GeneratorDiagnostics);
            Assert.Empty(run.OutputErrors);
            GeneratedSource source = Assert.Single(run.Sources);
            Assert.Equal("Sample.SmallResidualNet.g.cs", source.HintName);
            Snapshot.Verify(source.Text);
        }

        /// <summary>The emitter is a pure function of the declaration: two runs give the same text.</summary>
        [Fact]
        public void OutputIsDeterministic()
        {
            const string source = "using CnnGen;\n[Network(Channels = 2, Height = 6, Width = 6)]\n[Conv2D(3, 3), ReLU, AvgPool2D(2), Flatten, Dense(2)]\npublic partial class N;\n";
            string first = GeneratorHarness.Run(source).Sources.Single().Text;
            string second = GeneratorHarness.Run(source).Sources.Single().Text;
            Assert.Equal(first, second);
        }
    }
}
