// The generator fuzz run: CNNGEN_FUZZ_COUNT cases (default 10,000) of seed CNNGEN_FUZZ_SEED (default 1) through the
// generator and the analyzer, checked by FuzzRunner. CNNGEN_FUZZ_CASE=i replays case i alone. Category "Fuzz": CI
// runs it once (best kernel set), after the three test passes that exclude it.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Xunit.Abstractions;

namespace CnnGen.Fuzz
{
    public sealed class GeneratorFuzzTests
    {
        private const int BatchSize = 40;
        /// <summary>Every this many batches one valid network is compiled in full, loaded and run forward: that costs
        /// seconds, where checking a case's diagnostics and generated constants costs milliseconds.</summary>
        private const int ExecuteEvery = 3;

        private readonly ITestOutputHelper _output;

        public GeneratorFuzzTests(ITestOutputHelper output) => _output = output;

        private static int Setting(string name, int fallback) =>
            Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

        [Fact]
        [Trait("Category", "Fuzz")]
        public void RandomDeclarationsNeverCrashAndAreReportedOrCompileAndRun()
        {
            int seed = Setting("CNNGEN_FUZZ_SEED", 1);
            int count = Setting("CNNGEN_FUZZ_COUNT", 10_000);
            int single = Setting("CNNGEN_FUZZ_CASE", -1);
            int[] indices = single >= 0 ? new[] { single } : Enumerable.Range(0, count).ToArray();

            var clock = Stopwatch.StartNew();
            var batches = indices.Chunk(BatchSize).ToArray();
            var failures = new ConcurrentBag<FuzzFailure>();
            var stats = new FuzzStats();
            Parallel.For(0, batches.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, b =>
            {
                FuzzCase[] cases = batches[b].Select(i => NetworkFuzzer.Make(seed, i)).ToArray();
                var local = new FuzzStats();
                foreach (FuzzFailure f in FuzzRunner.RunBatch(cases, single >= 0 || b % ExecuteEvery == 0 ? 1 : 0, local)) failures.Add(f);
                stats.Add(local);
            });
            clock.Stop();

            string summary = $"seed {seed}: {stats.Cases} cases in {clock.Elapsed.TotalSeconds:F1} s ({stats.Batches} batches): " +
                $"{stats.Valid} valid ({stats.Executed} run forward), {stats.CnnErrors} with a DSL mistake, {stats.CompilerErrors} with a C# mistake, " +
                $"{stats.Extreme} extreme; driver {stats.DriverMs / 1000.0:F1} s, analyzer {stats.AnalyzerMs / 1000.0:F1} s, compile and run {stats.ExecuteMs / 1000.0:F1} s\nkinds: {string.Join(", ", stats.Kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}\n" +
                $"reported: {string.Join(", ", stats.Ids.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}";
            _output.WriteLine(summary);
            Console.WriteLine(summary);

            // Every case of the batch is charged with a crash, so group by problem to see distinct failures.
            var distinct = failures.OrderBy(f => f.Case.Index).GroupBy(f => f.Case.Kind + " | " + Normalize(f.Problem)).ToList();
            string report = string.Join("\n\n", distinct.Take(12).Select(g => $"[{g.Count()}x] {g.First()}"));
            Assert.True(failures.IsEmpty, $"{failures.Count} broken properties in {failures.Select(f => f.Case.Index).Distinct().Count()} cases, " +
                $"{distinct.Count} distinct (replay one with CNNGEN_FUZZ_SEED={seed} CNNGEN_FUZZ_CASE=<index>):\n\n{report}");
            Assert.Equal(indices.Length, stats.Cases);
            Assert.True(single >= 0 || stats.Valid > count / 8 && stats.Executed > 0, summary);
        }

        /// <summary>A problem text without the numbers and names that differ between cases of the same failure.</summary>
        private static string Normalize(string problem) =>
            System.Text.RegularExpressions.Regex.Replace(problem.Split('\n')[0], @"\d+|Fuzz\d+|B\d+", "#");

        [Fact]
        public void CasesDependOnSeedAndIndexOnly()
        {
            // Replaying a failure needs the same case from (seed, index), in any order and any process.
            FuzzCase a = NetworkFuzzer.Make(7, 123);
            NetworkFuzzer.Make(7, 5);
            FuzzCase b = NetworkFuzzer.Make(7, 123);
            Assert.Equal(a, b with { ExpectedIds = a.ExpectedIds });
            Assert.Equal(a.ExpectedIds, b.ExpectedIds);
            Assert.NotEqual(a.Source, NetworkFuzzer.Make(8, 123).Source);
        }

        [Theory]
        [InlineData(28, 2, 2, 0, false, 14)]
        [InlineData(5, 3, 3, 0, false, 1)]
        [InlineData(5, 3, 2, 0, true, 2)]
        [InlineData(6, 3, 2, 1, true, 4)]   // ceil((6 + 2 - 3) / 2) + 1 = 4; the 4th window starts at 6 < 6 + 1
        [InlineData(4, 2, 3, 1, true, 2)]   // ceil(4 / 3) + 1 = 3, but the 3rd window would start at 6 >= 4 + 1
        [InlineData(2, 3, 1, 0, false, 0)]
        public void ShapeModelFollowsPyTorch(int n, int k, int s, int p, bool ceil, int expected) =>
            Assert.Equal(expected, NetworkFuzzer.Dim(n, k, s, p, ceil));
    }
}
