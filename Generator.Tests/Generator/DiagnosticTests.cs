// One test per diagnostic id: the generator and the analyzer must both report it with the right severity, on the
// exact span marked [|...|] in the source (the offending attribute, or the class identifier for CNN0006-8), with
// the exact message. Invalid networks must produce no code; valid ones must compile cleanly.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Tests.Generator
{
    public class DiagnosticTests
    {
        private const string Header = "using CnnGen;\nnamespace Sample;\n";

        /// <summary>Every diagnostic case: markup source, id, severity, exact message, and whether code is still generated.</summary>
        public static readonly Dictionary<string, DiagnosticCase> Cases = new()
        {
            [nameof(CNN0001_MissingInputShape)] = new(Header + """
            [[|Network(Channels = 1, Height = 28)|]]
            [Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0001", DiagnosticSeverity.Error,
            "[Network] on 'Net' must give the input shape with Channels, Height and Width of at least 1 (got Channels = 1, Height = 28, Width = 0)"),
            [nameof(CNN0002_PoolWindowLargerThanInput)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [Conv2D(36, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
            [Conv2D(144, 3), ReLU, Dropout(0.25), [|MaxPool2D(3)|]]
            [Flatten, Dense(10), Softmax]
            public partial class Net;
            """, "CNN0002", DiagnosticSeverity.Error,
            "MaxPool2D(3) at layer 7 gets 2x2x144; its window needs at least 3x3 after padding, but the height gives ((2 - 3 + 2*0)/3 + 1 = 0)"),
            [nameof(CNN0002_ConvKernelLargerThanWidth)] = new(Header + """
            [Network(Channels = 3, Height = 32, Width = 4)]
            [[|Conv2D(8, 5, Stride = 2)|]]
            [Flatten, Dense(10)]
            public partial class Net;
            """, "CNN0002", DiagnosticSeverity.Error,
            "Conv2D(8, 5, Stride = 2) at layer 1 gets 32x4x3; its kernel needs at least 5x5 after padding, but the width gives ((4 - 5 + 2*0)/2 + 1 = 0)"),
            [nameof(CNN0003_NonPositiveFilters)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [[|Conv2D(0, 3)|]]
            [Flatten, Dense(10)]
            public partial class Net;
            """, "CNN0003", DiagnosticSeverity.Error,
            "Conv2D(0, 3) at layer 1: the number of filters must be at least 1, but is 0"),
            [nameof(CNN0003_DropoutRateOutOfRange)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [Flatten, Dense(16), ReLU, [|Dropout(1.0)|], Dense(10)]
            public partial class Net;
            """, "CNN0003", DiagnosticSeverity.Error,
            "Dropout(1.0) at layer 4: the dropout rate must be in [0, 1), but is 1"),
            [nameof(CNN0003_AuxHeadWithoutHiddenUnits)] = new(Header + """
            [Network(Channels = 2, Height = 12, Width = 12)]
            [Conv2D(4, 3, Padding = 1), ReLU, [|AuxClassifier(Channels = 4, Hidden = 0)|], GlobalAvgPool, Dense(3)]
            public partial class Net;
            """, "CNN0003", DiagnosticSeverity.Error,
            "AuxClassifier(Channels = 4, Hidden = 0) at layer 3: Hidden must be at least 1, but is 0"),
            [nameof(CNN0004_GroupsDoNotDivideChannels)] = new(Header + """
            [Network(Channels = 3, Height = 8, Width = 8)]
            [[|Conv2D(4, 3, Groups = 2)|]]
            [Flatten, Dense(10)]
            public partial class Net;
            """, "CNN0004", DiagnosticSeverity.Error,
            "Conv2D(4, 3, Groups = 2) at layer 1 gets 8x8x3; its 3 input channels are not divisible by Groups = 2 (3 % 2 = 1)"),
            [nameof(CNN0005_DenseOnFeatureMap)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [Conv2D(4, 3), [|Dense(10)|]]
            public partial class Net;
            """, "CNN0005", DiagnosticSeverity.Error,
            "Dense(10) at layer 2 gets the feature map 6x6x4; Dense takes a vector, so add [Flatten] (or [GlobalAvgPool]) before it"),
            [nameof(CNN0006_NotPartial)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [Flatten, Dense(10)]
            public class [|Net|] { }
            """, "CNN0006", DiagnosticSeverity.Error,
            "Network class 'Net' must be declared partial: the generator adds Forward, Backward and TrainStep to it"),
            [nameof(CNN0007_Generic)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [Flatten, Dense(10)]
            public partial class [|Net|]<T> { }
            """, "CNN0007", DiagnosticSeverity.Error,
            "Network class 'Net' must not be generic: its shapes are compile-time constants"),
            [nameof(CNN0008_Nested)] = new(Header + """
            public partial class Outer
            {
                [Network(Channels = 1, Height = 8, Width = 8)]
                [Flatten, Dense(10)]
                public partial class [|Net|] { }
            }
            """, "CNN0008", DiagnosticSeverity.Error,
            "Network class 'Net' is nested in 'Outer'; declare it at namespace level"),
            [nameof(CNN0009_StrideDropsRows)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [[|Conv2D(4, 3, Stride = 2)|], ReLU]
            [Flatten, Dense(10)]
            public partial class Net;
            """, "CNN0009", DiagnosticSeverity.Warning,
            "Conv2D(4, 3, Stride = 2) at layer 1 gets 8x8x1: (8 - 3 + 2*0) = 5 is not a multiple of stride 2, so the last 1 row(s) or column(s) never reach the output",
            ExpectCode: true),
            [nameof(CNN0010_ConvOnVector)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [Flatten, [|Conv2D(4, 3)|]]
            public partial class Net;
            """, "CNN0010", DiagnosticSeverity.Error,
            "Conv2D(4, 3) at layer 2 gets the vector 64; it needs a feature map (height x width x channels), so it must come before Flatten or GlobalAvgPool"),
            [nameof(CNN0011_SoftmaxNotLast)] = new(Header + """
            [Network(Channels = 1, Height = 8, Width = 8)]
            [Flatten, Dense(10), [|Softmax|], Dense(3)]
            public partial class Net;
            """, "CNN0011", DiagnosticSeverity.Error,
            "Softmax at layer 3 is followed by Dense(3); Softmax is the network's output and must be the last layer"),
            [nameof(CNN0012_NoLayers)] = new(Header + """
            [[|Network(Channels = 1, Height = 8, Width = 8)|]]
            public partial class Net;
            """, "CNN0012", DiagnosticSeverity.Error,
            "Network 'Net' declares no layers; add layer attributes such as [Conv2D(32, 3)] after [Network]"),
            [nameof(CNN0013_ResidualAddOfDifferentShapes)] = new(Header + """
            [Block("width")]
            [Conv2D("width", 3, Padding = 1)]
            public class Body;
            [Network(Channels = 2, Height = 8, Width = 8)]
            [[|Residual<Body>(4)|], Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0013", DiagnosticSeverity.Error,
            "Residual<Body>(4) at layer 1 adds body Body output 8x8x4 to the identity shortcut output 8x8x2: the shapes must be equal; " +
            "give a projection shortcut (e.g. [Residual<Body, Projection>] with a 1x1 Conv2D with the body's stride and filters)"),
            [nameof(CNN0013_BuiltInBlockInsideUserBlock)] = new(Header + """
            [Block("width")]
            [Conv2D("width", 3, Padding = 1), Residual<Body2>]
            public class Body;
            [Block]
            [MaxPool2D(2)]
            public class Body2;
            [Network(Channels = 2, Height = 8, Width = 8)]
            [[|Use<Body>(4)|], Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0013", DiagnosticSeverity.Error,
            "body1.residual1.add = Residual<Body2> in block Body (from Use<Body>(4) at layer 1) adds body Body2 output 4x4x4 to the identity shortcut output 8x8x4: the shapes must be equal; " +
            "give a projection shortcut (e.g. [Residual<Body, Projection>] with a 1x1 Conv2D with the body's stride and filters)"),
            [nameof(CNN0014_ConcatOfDifferentSizes)] = new(Header + """
            [Block]
            [Conv2D(2, 3)]
            public class Narrow;
            [Network(Channels = 2, Height = 8, Width = 8)]
            [[|Concat<Narrow, Identity>|], Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0014", DiagnosticSeverity.Error,
            "Concat<Narrow, Identity> at layer 1 concatenates branch 1 (Narrow) 6x6x2, branch 2 (Identity) 8x8x2 along channels: every branch must be a feature map with the same height x width"),
            [nameof(CNN0015_BlockUsesItself)] = new(Header + """
            [Block]
            [Conv2D(2, 1), Use<Loop>]
            public class Loop;
            [Network(Channels = 2, Height = 8, Width = 8)]
            [[|Use<Loop>|], Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0015", DiagnosticSeverity.Error,
            "Use<Loop> in block Loop (from Use<Loop> at layer 1): block Loop uses itself (Sample.Loop -> Sample.Loop); a block cannot contain itself"),
            [nameof(CNN0016_UnknownBlockParameter)] = new(Header + """
            [Block("width")]
            [[|Conv2D("widht", 3)|]]
            public class Body;
            [Network(Channels = 2, Height = 8, Width = 8)]
            [Use<Body>(4), Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0016", DiagnosticSeverity.Error,
            "Conv2D(\"widht\", 3) in block Body: filters names the parameter \"widht\", but the block declares width; add it to [Block(...)] or fix the name"),
            [nameof(CNN0017_MissingBlockArgument)] = new(Header + """
            [Block("width", "stride = 1")]
            [Conv2D("width", 3, Stride = "stride")]
            public class Body;
            [Network(Channels = 2, Height = 8, Width = 8)]
            [[|Use<Body>|], Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0017", DiagnosticSeverity.Error,
            "Use<Body> at layer 1: block Body(width, stride = 1) needs an argument for parameter 'width' (argument 1), but only 0 are given"),
            [nameof(CNN0018_NotABlock)] = new(Header + """
            public class Plain { }
            [Network(Channels = 2, Height = 8, Width = 8)]
            [[|Use<Plain>|], Flatten, Dense(3)]
            public partial class Net;
            """, "CNN0018", DiagnosticSeverity.Error,
            "Use<Plain> at layer 1: 'Sample.Plain' is not a block; mark the class [Block] (with its parameters) and give it layer attributes, or use CnnGen.Identity"),
            [nameof(CNN0019_AuxClassifierWithoutClasses)] = new(Header + """
            [[|Network(Channels = 2, Height = 16, Width = 16)|]]
            [Conv2D(4, 3), AuxClassifier, Conv2D(4, 3)]
            public partial class Net;
            """, "CNN0019", DiagnosticSeverity.Error,
            "Network 'Net' has an AuxClassifier, but its output is the feature map 12x12x4; end the network in Dense(classes) (and Softmax)"),
        };

        [Fact]
        public void CNN0013_ResidualAddOfDifferentShapes() => AssertDiagnostic(Cases[nameof(CNN0013_ResidualAddOfDifferentShapes)]);

        /// <summary>A mistake inside a block is reported on the network's attribute that uses the block, naming the block.</summary>
        [Fact]
        public void CNN0013_BuiltInBlockInsideUserBlock() => AssertDiagnostic(Cases[nameof(CNN0013_BuiltInBlockInsideUserBlock)]);

        [Fact]
        public void CNN0014_ConcatOfDifferentSizes() => AssertDiagnostic(Cases[nameof(CNN0014_ConcatOfDifferentSizes)]);

        [Fact]
        public void CNN0015_BlockUsesItself() => AssertDiagnostic(Cases[nameof(CNN0015_BlockUsesItself)]);

        /// <summary>A misspelt parameter is reported on the block's own layer attribute: that is where the fix goes.</summary>
        [Fact]
        public void CNN0016_UnknownBlockParameter() => AssertDiagnostic(Cases[nameof(CNN0016_UnknownBlockParameter)]);

        [Fact]
        public void CNN0017_MissingBlockArgument() => AssertDiagnostic(Cases[nameof(CNN0017_MissingBlockArgument)]);

        [Fact]
        public void CNN0018_NotABlock() => AssertDiagnostic(Cases[nameof(CNN0018_NotABlock)]);

        [Fact]
        public void CNN0019_AuxClassifierWithoutClasses() => AssertDiagnostic(Cases[nameof(CNN0019_AuxClassifierWithoutClasses)]);

        [Fact]
        public void CNN0001_MissingInputShape() => AssertDiagnostic(Cases[nameof(CNN0001_MissingInputShape)]);

        /// <summary>The DESIGN.md example: a 3x3 window on the 2x2x144 map left at layer 7.</summary>
        [Fact]
        public void CNN0002_PoolWindowLargerThanInput() => AssertDiagnostic(Cases[nameof(CNN0002_PoolWindowLargerThanInput)]);

        [Fact]
        public void CNN0002_ConvKernelLargerThanWidth() => AssertDiagnostic(Cases[nameof(CNN0002_ConvKernelLargerThanWidth)]);

        [Fact]
        public void CNN0003_NonPositiveFilters() => AssertDiagnostic(Cases[nameof(CNN0003_NonPositiveFilters)]);

        [Fact]
        public void CNN0003_DropoutRateOutOfRange() => AssertDiagnostic(Cases[nameof(CNN0003_DropoutRateOutOfRange)]);

        [Fact]
        public void CNN0003_AuxHeadWithoutHiddenUnits() => AssertDiagnostic(Cases[nameof(CNN0003_AuxHeadWithoutHiddenUnits)]);

        [Fact]
        public void CNN0004_GroupsDoNotDivideChannels() => AssertDiagnostic(Cases[nameof(CNN0004_GroupsDoNotDivideChannels)]);

        [Fact]
        public void CNN0005_DenseOnFeatureMap() => AssertDiagnostic(Cases[nameof(CNN0005_DenseOnFeatureMap)]);

        [Fact]
        public void CNN0006_NotPartial() => AssertDiagnostic(Cases[nameof(CNN0006_NotPartial)]);

        [Fact]
        public void CNN0007_Generic() => AssertDiagnostic(Cases[nameof(CNN0007_Generic)]);

        [Fact]
        public void CNN0008_Nested() => AssertDiagnostic(Cases[nameof(CNN0008_Nested)]);

        /// <summary>A warning: the network is still valid and its code is generated.</summary>
        [Fact]
        public void CNN0009_StrideDropsRows() => AssertDiagnostic(Cases[nameof(CNN0009_StrideDropsRows)]);

        [Fact]
        public void CNN0010_ConvOnVector() => AssertDiagnostic(Cases[nameof(CNN0010_ConvOnVector)]);

        [Fact]
        public void CNN0011_SoftmaxNotLast() => AssertDiagnostic(Cases[nameof(CNN0011_SoftmaxNotLast)]);

        [Fact]
        public void CNN0012_NoLayers() => AssertDiagnostic(Cases[nameof(CNN0012_NoLayers)]);

        [Fact]
        public void CNN0099_InternalErrorDescriptorExists()
        {
            DiagnosticDescriptor d = DiagnosticDescriptors.InternalError;
            Assert.Equal("CNN0099", d.Id);
            Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity);
            Assert.True(d.IsEnabledByDefault);
            Assert.Contains(d, DiagnosticDescriptors.All);
            Assert.Same(d, DiagnosticDescriptors.ForId("CNN0099"));
        }

        [Fact]
        public void EveryDescriptorIsDistinctAndSupportedByTheAnalyzer()
        {
            string[] ids = DiagnosticDescriptors.All.Select(d => d.Id).ToArray();
            Assert.Equal(Enumerable.Range(1, 19).Select(i => $"CNN{i:D4}").Append("CNN0099"), ids);
            Assert.Equal(ids, new CnnGen.Generator.NetworkAnalyzer().SupportedDiagnostics.Select(d => d.Id));
            foreach (DiagnosticDescriptor d in DiagnosticDescriptors.All)
            {
                Assert.Equal("CnnGen", d.Category);
                Assert.False(string.IsNullOrWhiteSpace(d.Title.ToString(CultureInfo.InvariantCulture)), d.Id);
                Assert.False(string.IsNullOrWhiteSpace(d.Description.ToString(CultureInfo.InvariantCulture)), d.Id);
                Assert.Equal(d.Id == "CNN0009" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error, d.DefaultSeverity);
            }
        }

        /// <summary>CNN0009 counts real rows only: a padded window that skips just the padding row (3x3, stride 2, padding 1
        /// on an even size: every ResNet downsampling conv) and a kernel smaller than its stride (the 1x1 stride-2
        /// projection, which skips every other row by design) are not warned about; a row of the image left out is.</summary>
        [Theory]
        [InlineData("Conv2D(4, 3, Stride = 2, Padding = 1)", 14, false)]
        [InlineData("Conv2D(4, 1, Stride = 2)", 14, false)]
        [InlineData("MaxPool2D(3, Stride = 2, Padding = 1)", 8, false)]
        [InlineData("Conv2D(4, 3, Stride = 2, Padding = 1)", 15, false)]
        [InlineData("Conv2D(4, 3, Stride = 2)", 14, true)]
        [InlineData("MaxPool2D(2)", 15, true)]
        [InlineData("Conv2D(4, 7, Stride = 2, Padding = 3)", 224, false)]
        [InlineData("AvgPool2D(5, Stride = 3)", 14, false)]
        [InlineData("AvgPool2D(5, Stride = 3)", 12, true)]
        public void UnevenStrideWarnsOnlyWhenImageRowsAreDropped(string layer, int size, bool warns)
        {
            string network = $"[Network(Channels = 2, Height = {size}, Width = {size})]\n[{layer}, Flatten, Dense(3)]\npublic partial class Net;\n";
            bool reported = GeneratorHarness.Run(Header + network).GeneratorDiagnostics.Any(d => d.Id == "CNN0009");
            Assert.Equal(warns, reported);
        }

        /// <summary>A user can silence the CNN0009 warning in source, and then neither the analyzer nor the generator
        /// reports it (generator diagnostics with file-path-only locations would escape #pragma: dotnet/roslyn#68291).</summary>
        [Fact]
        public void PragmaSuppressesTheWarningFromBothGeneratorAndAnalyzer()
        {
            const string network = """
                [Network(Channels = 1, Height = 8, Width = 8)]
                [Conv2D(4, 3, Stride = 2), ReLU]
                [Flatten, Dense(10)]
                public partial class Net;
                """;
            // Without the pragma both report it, so the assertions below can fail.
            Assert.Contains(GeneratorHarness.Run(Header + network).GeneratorDiagnostics, d => d.Id == "CNN0009");
            Assert.Contains(GeneratorHarness.RunAnalyzer(Header + network).Diagnostics, d => d.Id == "CNN0009");

            string suppressed = Header + "#pragma warning disable CNN0009\n" + network;
            GeneratorRun run = GeneratorHarness.Run(suppressed);
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "CNN0009" && !d.IsSuppressed);
            Assert.DoesNotContain(GeneratorHarness.RunAnalyzer(suppressed).Diagnostics, d => d.Id == "CNN0009" && !d.IsSuppressed);
            Assert.Single(run.Sources);
        }

        // ------------------------------------------------------------------ robustness: never an internal error

        /// <summary>Every input of this class plus odd ones (attributes that do not bind, split partial declarations,
        /// huge sizes): neither generator nor analyzer may throw, report AD0001 / CS8785, or fall back to CNN0099.</summary>
        [Theory]
        [MemberData(nameof(AllInputs))]
        public void NoInputCausesAnInternalError(string name, string[] sources)
        {
            GeneratorRun run = GeneratorHarness.Run(sources);
            Assert.Null(run.GeneratorException);
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id is "CNN0099" or "CS8784" or "CS8785");
            AnalyzerRun analyzer = GeneratorHarness.RunAnalyzer(sources);
            Assert.Empty(analyzer.Exceptions);
            Assert.DoesNotContain(analyzer.Diagnostics, d => d.Id is "CNN0099" or "AD0001");
            Assert.DoesNotContain(run.Output.GetDiagnostics(), d => d.Id == "AD0001");
            Assert.False(string.IsNullOrEmpty(name));
        }

        public static IEnumerable<object[]> AllInputs()
        {
            foreach (KeyValuePair<string, DiagnosticCase> c in Cases)
                yield return new object[] { c.Key, new[] { Markup.Parse(c.Value.Markup).Source } };
            yield return new object[] { "UnboundAttributes", new[] { Header + """
                [Network(Channels = 1, Height = 8, Width = 8)]
                [Conv2D(3), Dense("ten"), Dropout(0.5, 2), Flatten, Dense(10)]
                public partial class Net;
                """ } };
            yield return new object[] { "PartialAcrossFiles", new[] {
                Header + "[Network(Channels = 1, Height = 8, Width = 8)]\n[Conv2D(4, 3), ReLU]\npublic partial class Net;\n",
                Header + "[Flatten, Dense(10), Softmax]\npublic partial class Net { public int Extra => 1; }\n" } };
            yield return new object[] { "HugeSizes", new[] { Header + """
                [Network(Channels = 3, Height = 100000, Width = 100000)]
                [Conv2D(100000, 3), Flatten, Dense(int.MaxValue)]
                public partial class Net;
                """ } };
            yield return new object[] { "NegativeEverything", new[] { Header + """
                [Network(Channels = -1, Height = -2, Width = -3)]
                [Conv2D(-1, -1, Stride = -1, Padding = -5, Groups = -1), MaxPool2D(-2), Dense(-1), Dropout(-0.5)]
                public partial class Net;
                """ } };
            yield return new object[] { "GlobalNamespaceStruct", new[] { """
                using CnnGen;
                [Network(Channels = 1, Height = 4, Width = 4)]
                [Flatten, Dense(2)]
                public partial struct NotAClass;
                [Network(Channels = 1, Height = 4, Width = 4)]
                [Flatten, Dense(2)]
                internal partial class InGlobalNamespace;
                """ } };
        }

        // ------------------------------------------------------------------ generated code or not

        [Fact]
        public void InvalidNetworkGeneratesNoCode()
        {
            GeneratorRun run = GeneratorHarness.Run(Header + """
                [Network(Channels = 1, Height = 8, Width = 8)]
                [Conv2D(4, 3), Dense(10)]
                public partial class Net;

                [Network(Channels = 1, Height = 8, Width = 8)]
                [Flatten, Dense(10)]
                public partial class Valid;
                """);
            Assert.Equal(new[] { "CNN0005" }, run.GeneratorDiagnostics.Select(d => d.Id));
            // Only the valid neighbour gets code; the invalid one gets none (not even a partial class).
            Assert.Equal(new[] { "Sample.Valid.g.cs" }, run.Sources.Select(s => s.HintName));
            Assert.DoesNotContain("class Net", run.Sources[0].Text);
        }

        [Theory]
        [InlineData("[Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Flatten, Dense(3), Softmax]", 1, 8, 8, "")]
        [InlineData("[Conv2D(36, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]\n[Conv2D(72, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]\n[Conv2D(144, 3), ReLU, MaxPool2D(2), Dropout(0.25)]\n[Flatten, Dense(576), ReLU, Dropout(0.5), Dense(10), Softmax]", 1, 28, 28, "CNN0009")]
        [InlineData("[Conv2D(8, 3, Stride = 2, Padding = 1, Bias = false), ReLU, Conv2D(8, 1, Groups = 4), AvgPool2D(3, Stride = 1, Padding = 1), Conv2D(6, 3, Groups = 2), GlobalAvgPool, Dense(5, Bias = false)]", 4, 9, 9, "")]
        [InlineData("[Flatten, Dense(7), ReLU, Dropout(0.1), Dense(2)]", 2, 3, 3, "")]
        public void ValidNetworkCompilesWithoutErrorsOrWarnings(string layers, int c, int h, int w, string expectedWarnings)
        {
            GeneratorRun run = GeneratorHarness.Run(Header +
                $"[Network(Channels = {c}, Height = {h}, Width = {w})]\n{layers}\npublic partial class Net;\n" +
                "public static class Use { public static CnnGen.INetwork Make() => new Net(maxBatch: 2, seed: 3); }\n");
            // The seed net (second case) keeps Keras' floor pooling of 5x5 to 2x2, so it carries the CNN0009 warning.
            Assert.Equal(expectedWarnings, string.Join(",", run.GeneratorDiagnostics.Select(d => d.Id)));
            Assert.All(run.GeneratorDiagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
            Assert.Null(run.GeneratorException);
            GeneratedSource source = Assert.Single(run.Sources);
            Assert.Equal("Sample.Net.g.cs", source.HintName);
            Assert.Empty(run.OutputErrors);
            Assert.Empty(run.GeneratedCodeWarnings);
            Assert.False(GeneratorHarness.CompilationOptions.AllowUnsafe);
        }

        // ------------------------------------------------------------------ the check itself

        public sealed record DiagnosticCase(string Markup, string Id, DiagnosticSeverity Severity, string Message, bool ExpectCode = false);

        private static void AssertDiagnostic(DiagnosticCase c)
        {
            (string markup, string id, DiagnosticSeverity severity, string message, bool expectCode) = (c.Markup, c.Id, c.Severity, c.Message, c.ExpectCode);
            (string source, TextSpan span) = Markup.Parse(markup);
            LinePositionSpan lineSpan = Markup.LineSpan(source, span);

            GeneratorRun run = GeneratorHarness.Run(source);
            Assert.Null(run.GeneratorException);
            Diagnostic generated = Assert.Single(run.GeneratorDiagnostics);
            AssertMatches(generated, "generator");

            AnalyzerRun analyzer = GeneratorHarness.RunAnalyzer(source);
            Assert.Empty(analyzer.Exceptions);
            Diagnostic analyzed = Assert.Single(analyzer.Diagnostics);
            AssertMatches(analyzed, "analyzer");

            if (expectCode)
            {
                Assert.Single(run.Sources);
                Assert.Empty(run.OutputErrors);
            }
            else
            {
                Assert.Empty(run.Sources);
            }

            void AssertMatches(Diagnostic d, string who)
            {
                Assert.True(id == d.Id, $"{who}: expected {id}, got {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}");
                Assert.Equal(severity, d.Severity);
                Assert.Equal(message, d.GetMessage(CultureInfo.InvariantCulture));
                Assert.Equal(span, d.Location.SourceSpan);
                FileLinePositionSpan actual = d.Location.GetLineSpan();
                Assert.Equal("Source0.cs", actual.Path);
                Assert.Equal(lineSpan, actual.Span);
                Assert.Equal(source.Substring(span.Start, span.Length), source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
            }
        }
    }
}
