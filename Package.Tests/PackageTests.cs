// End-to-end: the packed CnnGen package used the way a user would, from a project outside the solution.
using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;

namespace CnnGen.Package.Tests
{
    public sealed class PackageTests : IClassFixture<PackageFixture>
    {
        private readonly PackageFixture _fixture;

        public PackageTests(PackageFixture fixture) => _fixture = fixture;

        private const string TinyNetProgram = """
            using System;
            using System.Globalization;
            using CnnGen;

            namespace Consumer
            {
                [Network(Channels = 1, Height = 8, Width = 8)]
                [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Flatten, Dense(3), Softmax]
                public partial class TinyNet;

                public static class Program
                {
                    public static int Main()
                    {
                        const int batch = 2;
                        using var net = new TinyNet(maxBatch: batch);
                        var input = new float[batch * TinyNet.InputSize];
                        var output = new float[batch * TinyNet.OutputSize];
                        net.Forward(input, output, batch);
                        for (int i = 0; i < batch; i++)
                        {
                            float sum = 0;
                            for (int j = 0; j < TinyNet.OutputSize; j++) sum += output[i * TinyNet.OutputSize + j];
                            Console.WriteLine("sum " + i + " = " + sum.ToString("R", CultureInfo.InvariantCulture));
                        }
                        long counted = 0;
                        foreach (Parameter p in net.Parameters) counted += p.Length;
                        Console.WriteLine("ParameterCount = " + TinyNet.ParameterCount);
                        Console.WriteLine("Counted = " + counted);
                        Console.WriteLine("OutputSize = " + TinyNet.OutputSize);
                        Console.WriteLine("Isa = " + net.Isa);
                        return 0;
                    }
                }
            }
            """;

        [Fact]
        public void Package_holds_the_generator_as_an_analyzer_and_the_assemblies_in_lib()
        {
            using ZipArchive zip = ZipFile.OpenRead(_fixture.NupkgPath);
            string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("analyzers/dotnet/cs/CnnGen.Generator.dll", entries);
            Assert.Contains("lib/net10.0/CnnGen.Dsl.dll", entries);
            Assert.Contains("lib/net10.0/CnnGen.Runtime.dll", entries);
            Assert.Contains("README.md", entries);
            Assert.DoesNotContain(entries, e => e.EndsWith("CnnGen.Package.dll", StringComparison.Ordinal));
            Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("Generator", StringComparison.Ordinal));

            using var reader = new StreamReader(zip.GetEntry("CnnGen.nuspec")!.Open());
            string nuspec = reader.ReadToEnd();
            Assert.Contains("<id>CnnGen</id>", nuspec);
            Assert.Contains("<version>0.1.0</version>", nuspec);
            Assert.Contains("<license type=\"expression\">MIT</license>", nuspec);
            Assert.Matches("<dependency id=\"System.Numerics.Tensors\" version=\"10\\.0\\.0\"", nuspec);
            // Only the one dependency: Dsl, Runtime and Generator are inside the package, not referenced packages.
            Assert.Single(Regex.Matches(nuspec, "<dependency "));
        }

        [Fact]
        public void Consumer_outside_the_solution_restores_builds_and_runs_a_generated_network()
        {
            string dir = _fixture.CreateConsumer("TinyConsumer", TinyNetProgram);
            ProcessResult build = _fixture.Build(dir);
            Assert.True(build.ExitCode == 0, $"Consumer build failed: {build}\n\npack: {_fixture.PackLog}");
            Assert.DoesNotContain("warning CS8785", build.Output);   // a generator that failed to run
            // Restored from the local feed into this run's own packages folder.
            Assert.True(Directory.Exists(Path.Combine(_fixture.Packages, "cnngen", "0.1.0", "analyzers", "dotnet", "cs")),
                "CnnGen 0.1.0 was not restored into the test's packages folder");

            string dll = Path.Combine(dir, "bin", "Release", "net10.0", "TinyConsumer.dll");
            // The ISA knobs (DOTNET_EnableAVX512=0, ...) do reach the run: the packaged kernels are tested under them.
            ProcessResult run = DotNet.Run(dir, new[] { dll }, TimeSpan.FromSeconds(60), forBuild: false);
            Assert.True(run.ExitCode == 0, $"Consumer run failed: {run}");

            for (int i = 0; i < 2; i++)
            {
                Match m = Regex.Match(run.Output, $@"sum {i} = (\S+)");
                Assert.True(m.Success, run.Output);
                float sum = float.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.InRange(sum, 1f - 1e-5f, 1f + 1e-5f);
            }
            // conv 4x1x3x3 + 4 = 40; 8x8 -> pool 4x4x4 = 64; dense 64x3 + 3 = 195; total 235.
            Assert.Contains("ParameterCount = 235", run.Output);
            Assert.Contains("Counted = 235", run.Output);
            Assert.Contains("OutputSize = 3", run.Output);
            if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0")
                Assert.Contains("Isa = Portable", run.Output);
        }

        [Fact]
        public void Consumer_with_a_shape_error_fails_to_build_with_CNN0002()
        {
            string program = TinyNetProgram.Replace("MaxPool2D(2)", "MaxPool2D(16)", StringComparison.Ordinal);
            string dir = _fixture.CreateConsumer("BadConsumer", program);
            ProcessResult build = _fixture.Build(dir);
            Assert.True(build.ExitCode != 0, $"A 16x16 pooling window on an 8x8 map built: {build}");
            Assert.True(Regex.IsMatch(build.Output, @"Program\.cs\(\d+,\d+\): error CNN0002"), $"The build failed, but not with CNN0002 on Program.cs: {build}");
        }
    }
}
