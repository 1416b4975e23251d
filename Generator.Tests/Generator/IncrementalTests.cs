// Incrementality: the driver is run, the compilation edited, and the driver run again; each tracked step
// (NetworkGenerator.Steps) must be Cached/Unchanged when the edit does not concern the network, Modified when it
// does, and moving a declaration must re-report diagnostics without re-emitting code. Also checks, as Roslyn's own
// incrementality tests do, that no step output holds on to compilation objects (they would defeat caching and
// keep old compilations alive).
using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using CnnGen.Generator;
using CnnGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Operations;

namespace CnnGen.Tests.Generator
{
    public class IncrementalTests
    {
        private const string NetworkFile = "Network.cs";
        private const string OtherFile = "Other.cs";

        private const string Network = """
            using CnnGen;
            namespace Sample;

            [Network(Channels = 1, Height = 8, Width = 8)]
            [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
            [Flatten, Dense(3), Softmax]
            public partial class SmallNet;

            public static class SameFileHelper
            {
                public static int Answer() => 41;
            }
            """;

        /// <summary>Valid, but with a CNN0009 warning, so its Check result carries a location.</summary>
        private const string NetworkWithWarning = """
            using CnnGen;
            namespace Sample;

            [Network(Channels = 1, Height = 8, Width = 8)]
            [Conv2D(4, 3, Stride = 2), ReLU]
            [Flatten, Dense(3), Softmax]
            public partial class WarnNet;
            """;

        private const string Other = """
            namespace Sample;
            public static class OtherFile
            {
                public static int Compute(int x) => x + 1;
            }
            """;

        private static readonly IncrementalStepRunReason[] CachedOrUnchanged = { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged };

        private static readonly string[] AllSteps =
        {
            NetworkGenerator.Steps.Parse, NetworkGenerator.Steps.Check, NetworkGenerator.Steps.Network, NetworkGenerator.Steps.Plan,
        };

        [Fact]
        public void AddingAnUnrelatedFileDoesNotRegenerate()
        {
            (GeneratorDriver driver, CSharpCompilation compilation, string firstOutput) = FirstRun(Network);
            GeneratorRun second = GeneratorHarness.Run(driver,
                compilation.AddSyntaxTrees(GeneratorHarness.Parse("namespace Sample; public class Unrelated { public int X; }", "Unrelated.cs")));

            GeneratorRunResult result = second.RunResult.Results.Single();
            foreach (string step in AllSteps) AssertReasons(result, step, CachedOrUnchanged);
            AssertReasons(CodeOutputs(result), "code output", CachedOrUnchanged);
            Assert.Equal(firstOutput, Assert.Single(second.Sources).Text);
        }

        [Fact]
        public void EditingAMethodBodyInAnotherFileDoesNotRegenerate()
        {
            (GeneratorDriver driver, CSharpCompilation compilation, _) = FirstRun(Network);
            GeneratorRun second = GeneratorHarness.Run(driver, ReplaceText(compilation, OtherFile, Other.Replace("x + 1", "x * 2 + 1")));

            GeneratorRunResult result = second.RunResult.Results.Single();
            foreach (string step in AllSteps) AssertReasons(result, step, CachedOrUnchanged);
            AssertReasons(CodeOutputs(result), "code output", CachedOrUnchanged);
        }

        /// <summary>An edit in the network's own file re-runs Parse, which must then find nothing changed.</summary>
        [Fact]
        public void EditingAMethodBodyInTheNetworksFileDoesNotRegenerate()
        {
            (GeneratorDriver driver, CSharpCompilation compilation, _) = FirstRun(Network);
            GeneratorRun second = GeneratorHarness.Run(driver, ReplaceText(compilation, NetworkFile, Network.Replace("=> 41;", "=> 42;")));

            GeneratorRunResult result = second.RunResult.Results.Single();
            foreach (string step in AllSteps) AssertReasons(result, step, CachedOrUnchanged);
            AssertReasons(CodeOutputs(result), "code output", CachedOrUnchanged);
        }

        [Fact]
        public void ChangingALayerArgumentRegenerates()
        {
            (GeneratorDriver driver, CSharpCompilation compilation, string firstOutput) = FirstRun(Network);
            GeneratorRun second = GeneratorHarness.Run(driver, ReplaceText(compilation, NetworkFile, Network.Replace("Dense(3)", "Dense(4)")));

            GeneratorRunResult result = second.RunResult.Results.Single();
            foreach (string step in AllSteps) AssertReasons(result, step, new[] { IncrementalStepRunReason.Modified });
            AssertReasons(CodeOutputs(result), "code output", new[] { IncrementalStepRunReason.Modified });
            string text = Assert.Single(second.Sources).Text;
            Assert.NotEqual(firstOutput, text);
            Assert.Contains("public const int OutputSize = 4;", text);
            Assert.Empty(second.OutputErrors);
        }

        private const string NetworkUsingBlock = """
            using CnnGen;
            namespace Sample;

            [Network(Channels = 1, Height = 8, Width = 8)]
            [Conv2D(4, 3, Padding = 1), Residual<Body>(4), ReLU]
            [Flatten, Dense(3), Softmax]
            public partial class BlockNet;
            """;

        /// <summary>The block lives in another file, as users will write it.</summary>
        private const string BlockFile = """
            using CnnGen;
            namespace Sample;

            [Block("width")]
            [Conv2D("width", 3, Padding = 1), ReLU]
            public class Body;

            public static class BlockFileHelper
            {
                public static int Answer() => 41;
            }
            """;

        /// <summary>A network's code depends on the block classes it uses, which may sit in other files: editing a block
        /// must regenerate the network (stale kernels would be silently wrong), editing anything else there must not.</summary>
        [Fact]
        public void EditingABlockInAnotherFileRegenerates()
        {
            (GeneratorDriver driver, CSharpCompilation compilation, string firstOutput) = FirstRun(NetworkUsingBlock, BlockFile);
            Assert.Contains("residual1.body.conv1", firstOutput);
            Assert.DoesNotContain("residual1.body.maxpool1", firstOutput);

            // Unrelated edit in the block's file: everything cached.
            CSharpCompilation unrelated = ReplaceText(compilation, OtherFile, BlockFile.Replace("=> 41;", "=> 42;"));
            GeneratorRun second = GeneratorHarness.Run(driver, unrelated);
            GeneratorRunResult result = second.RunResult.Results.Single();
            foreach (string step in AllSteps) AssertReasons(result, step, CachedOrUnchanged);
            AssertReasons(CodeOutputs(result), "code output", CachedOrUnchanged);

            // The block gains a layer: the network's parse, check, plan and code change.
            CSharpCompilation edited = ReplaceText(unrelated, OtherFile, BlockFile.Replace("ReLU]", "ReLU, Conv2D(\"width\", 1)]"));
            GeneratorRun third = GeneratorHarness.Run(second.Driver, edited);
            result = third.RunResult.Results.Single();
            foreach (string step in AllSteps) AssertReasons(result, step, new[] { IncrementalStepRunReason.Modified });
            string text = Assert.Single(third.Sources).Text;
            Assert.Contains("residual1.body.conv2", text);
            Assert.NotEqual(firstOutput, text);
            Assert.Empty(third.OutputErrors);

            // A block edit that breaks the residual's shapes is reported.
            CSharpCompilation broken = ReplaceText(edited, OtherFile, BlockFile.Replace("ReLU]", "ReLU, MaxPool2D(2)]"));
            GeneratorRun fourth = GeneratorHarness.Run(third.Driver, broken);
            Assert.Contains(fourth.GeneratorDiagnostics, d => d.Id == "CNN0013");
        }

        /// <summary>Blank lines above the class move every location: the diagnostic is re-reported at its new line,
        /// but the location-free network, its plan and the emitted code are reused.</summary>
        [Fact]
        public void MovingTheDeclarationReReportsDiagnosticsWithoutReEmitting()
        {
            (GeneratorDriver driver, CSharpCompilation compilation, string firstOutput) = FirstRun(NetworkWithWarning);
            int firstLine = Assert.Single(driver.GetRunResult().Diagnostics).Location.GetLineSpan().StartLinePosition.Line;

            GeneratorRun second = GeneratorHarness.Run(driver, ReplaceText(compilation, NetworkFile, "\n\n\n" + NetworkWithWarning));

            GeneratorRunResult result = second.RunResult.Results.Single();
            AssertReasons(result, NetworkGenerator.Steps.Parse, new[] { IncrementalStepRunReason.Modified });
            AssertReasons(result, NetworkGenerator.Steps.Check, new[] { IncrementalStepRunReason.Modified });
            AssertReasons(result, NetworkGenerator.Steps.Network, CachedOrUnchanged);
            AssertReasons(result, NetworkGenerator.Steps.Plan, CachedOrUnchanged);
            AssertReasons(CodeOutputs(result), "code output", CachedOrUnchanged);
            AssertReasons(DiagnosticOutputs(result), "diagnostic output", new[] { IncrementalStepRunReason.Modified });

            Diagnostic moved = Assert.Single(second.GeneratorDiagnostics);
            Assert.Equal("CNN0009", moved.Id);
            Assert.Equal(firstLine + 3, moved.Location.GetLineSpan().StartLinePosition.Line);
            Assert.Equal(firstOutput, Assert.Single(second.Sources).Text);
        }

        /// <summary>Without diagnostics, moving the declaration changes only Parse (its layer locations).</summary>
        [Fact]
        public void MovingAWarningFreeDeclarationStopsAfterParse()
        {
            (GeneratorDriver driver, CSharpCompilation compilation, _) = FirstRun(Network);
            GeneratorRun second = GeneratorHarness.Run(driver, ReplaceText(compilation, NetworkFile, "// a comment\n\n" + Network));

            GeneratorRunResult result = second.RunResult.Results.Single();
            AssertReasons(result, NetworkGenerator.Steps.Parse, new[] { IncrementalStepRunReason.Modified });
            AssertReasons(result, NetworkGenerator.Steps.Check, CachedOrUnchanged);
            AssertReasons(result, NetworkGenerator.Steps.Network, CachedOrUnchanged);
            AssertReasons(result, NetworkGenerator.Steps.Plan, CachedOrUnchanged);
            AssertReasons(CodeOutputs(result), "code output", CachedOrUnchanged);
        }

        // ------------------------------------------------------------------ no compilation objects in step outputs

        [Theory]
        [InlineData(Network)]
        [InlineData(NetworkWithWarning)]
        public void StepOutputsHoldNoCompilationObjects(string source)
        {
            (GeneratorDriver driver, CSharpCompilation compilation, _) = FirstRun(source);
            // Run twice so both first-run and cached values are walked.
            foreach (GeneratorDriver d in new[] { driver, driver.RunGenerators(compilation.AddSyntaxTrees(GeneratorHarness.Parse("class Z { }", "Z.cs"))) })
            {
                GeneratorRunResult result = d.GetRunResult().Results.Single();
                foreach (string step in AllSteps)
                {
                    Assert.True(result.TrackedSteps.TryGetValue(step, out ImmutableArray<IncrementalGeneratorRunStep> runs), $"step {step} was not tracked");
                    foreach (IncrementalGeneratorRunStep run in runs)
                        foreach ((object value, _) in run.Outputs)
                            AssertNoCompilationObjects(value, step);
                }
            }
        }

        /// <summary>The walker itself must find what it looks for, or the test above proves nothing.</summary>
        [Fact]
        public void TheObjectGraphWalkerFindsCompilationObjects()
        {
            SyntaxNode node = SyntaxFactory.ParseCompilationUnit("class C { }");
            Assert.ThrowsAny<Exception>(() => AssertNoCompilationObjects(Location.None, "test"));
            Assert.ThrowsAny<Exception>(() => AssertNoCompilationObjects(new { Items = ImmutableArray.Create<object>(1, node) }, "test"));
            Assert.ThrowsAny<Exception>(() => AssertNoCompilationObjects(Tuple.Create("x", new List<object> { node.GetLocation() }), "test"));
            Assert.ThrowsAny<Exception>(() => AssertNoCompilationObjects(new KeyValuePair<int, object>(1, GeneratorHarness.CreateCompilation()), "test"));
            Assert.ThrowsAny<Exception>(() => AssertNoCompilationObjects(new[] { node.DescendantTokens().First() }, "test"));
            AssertNoCompilationObjects(new { Name = "fine", Numbers = ImmutableArray.Create(1, 2, 3) }, "test");
        }

        private static readonly Type[] Forbidden =
        {
            typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SyntaxToken), typeof(SyntaxTrivia), typeof(SyntaxReference),
            typeof(Compilation), typeof(SemanticModel), typeof(Location), typeof(AttributeData), typeof(IOperation),
        };

        private static void AssertNoCompilationObjects(object? root, string step)
        {
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            Walk(root, step);

            void Walk(object? value, string path)
            {
                if (value is null) return;
                Type type = value.GetType();
                foreach (Type f in Forbidden)
                    if (f.IsAssignableFrom(type))
                        throw new Xunit.Sdk.XunitException($"{path} is a {type.FullName} ({f.Name}): step outputs must not reference the compilation.");
                if (type.IsPrimitive || type.IsEnum || type.IsPointer || value is string || value is decimal || value is Type || value is Pointer) return;
                if (!type.IsValueType && !seen.Add(value)) return;
                if (value is Array array)
                {
                    int i = 0;
                    foreach (object? item in array) Walk(item, $"{path}[{i++}]");
                    return;
                }
                for (Type? t = type; t is not null && t != typeof(object); t = t.BaseType)
                    foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                        if (!field.FieldType.IsPointer && !field.FieldType.IsByRefLike)
                            Walk(field.GetValue(value), $"{path}.{field.Name}");
            }
        }

        // ------------------------------------------------------------------ helpers

        private static (GeneratorDriver Driver, CSharpCompilation Compilation, string Output) FirstRun(string network, string other = Other)
        {
            CSharpCompilation compilation = CSharpCompilation.Create("Sample",
                new[] { GeneratorHarness.Parse(network, NetworkFile), GeneratorHarness.Parse(other, OtherFile) },
                GeneratorHarness.References, GeneratorHarness.CompilationOptions);
            GeneratorRun first = GeneratorHarness.Run(compilation);
            Assert.Empty(first.OutputErrors);
            Assert.DoesNotContain(first.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
            // Every step ran for the first time.
            GeneratorRunResult result = first.RunResult.Results.Single();
            foreach (string step in AllSteps) AssertReasons(result, step, new[] { IncrementalStepRunReason.New });
            return (first.Driver, compilation, Assert.Single(first.Sources).Text);
        }

        private static CSharpCompilation ReplaceText(CSharpCompilation compilation, string path, string text)
        {
            SyntaxTree old = compilation.SyntaxTrees.Single(t => t.FilePath == path);
            return compilation.ReplaceSyntaxTree(old, GeneratorHarness.Parse(text, path));
        }

        private static IEnumerable<IncrementalGeneratorRunStep> OutputSteps(GeneratorRunResult result) =>
            result.TrackedOutputSteps.TryGetValue("SourceOutput", out ImmutableArray<IncrementalGeneratorRunStep> steps) ? steps : Enumerable.Empty<IncrementalGeneratorRunStep>();

        /// <summary>The RegisterSourceOutput that emits code: its input is the Plan step.</summary>
        private static IncrementalGeneratorRunStep[] CodeOutputs(GeneratorRunResult result) =>
            OutputSteps(result).Where(s => s.Inputs.Any(i => i.Source.Name == NetworkGenerator.Steps.Plan)).ToArray();

        /// <summary>The RegisterSourceOutput that reports diagnostics: everything else.</summary>
        private static IncrementalGeneratorRunStep[] DiagnosticOutputs(GeneratorRunResult result) =>
            OutputSteps(result).Where(s => !s.Inputs.Any(i => i.Source.Name == NetworkGenerator.Steps.Plan)).ToArray();

        private static void AssertReasons(GeneratorRunResult result, string step, IncrementalStepRunReason[] allowed)
        {
            Assert.True(result.TrackedSteps.TryGetValue(step, out ImmutableArray<IncrementalGeneratorRunStep> runs), $"step {step} was not tracked");
            AssertReasons(runs.ToArray(), step, allowed);
        }

        private static void AssertReasons(IncrementalGeneratorRunStep[] runs, string step, IncrementalStepRunReason[] allowed)
        {
            var reasons = runs.SelectMany(r => r.Outputs).Select(o => o.Reason).ToArray();
            Assert.True(reasons.Length > 0, $"step {step} produced no outputs");
            Assert.True(reasons.All(allowed.Contains),
                $"step {step}: expected only {string.Join("/", allowed)}, got {string.Join(", ", reasons)}");
        }
    }
}
