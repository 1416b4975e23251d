// Work per benchmark case (FLOPs, images), the measured FMA peak, the custom columns and the closing summary table.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using CnnGen.Samples;

namespace CnnGen.Bench
{
    public static class Metrics
    {
        /// <summary>Measured FMA peak in GFLOP/s by thread count (best vector width), set after FmaBenchmarks ran.</summary>
        public static readonly Dictionary<int, double> Peak = new();

        public static readonly List<string> Rows = new();

        private static object? Param(BenchmarkCase bc, string name) =>
            bc.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value;

        public static (double Flops, double Images, int Threads) Of(BenchmarkCase bc)
        {
            string method = bc.Descriptor.WorkloadMethod.Name;
            Type type = bc.Descriptor.Type;
            if (type == typeof(FmaBenchmarks))
            {
                int threads = (int)Param(bc, "Threads")!;
                return (FmaPeak.Flops((int)Param(bc, "Width")!) * threads, 0, threads);
            }
            if (type == typeof(ConvBenchmarks))
            {
                var shape = (ConvShape)Param(bc, "Shape")!;
                int passes = method switch
                {
                    nameof(ConvBenchmarks.Forward) or nameof(ConvBenchmarks.BackwardWeights) => 1,
                    nameof(ConvBenchmarks.Backward) => 2,
                    _ => 3,
                };
                return (passes * shape.PassFlops, shape.N, (int)Param(bc, "Threads")!);
            }
            if (type == typeof(SeedNetBenchmarks))
            {
                int images = method.StartsWith("TrainStep64") ? 64 : 1;
                int threads = method.EndsWith("2T") ? 2 : 1;
                double flops = images * FashionNet.FlopsPerImage * (method.StartsWith("Train") ? 3.0 : 1.0);
                return (flops, images, threads);
            }
            return (0, 0, 1);
        }

        public static double? MeanSeconds(Summary summary, BenchmarkCase bc)
        {
            BenchmarkReport? r = summary[bc];
            double? ns = r?.ResultStatistics?.Mean;
            return ns is null ? null : ns.Value * 1e-9;
        }

        public static string F(double v, string fmt) => v.ToString(fmt, CultureInfo.InvariantCulture);

        /// <summary>Records the peak from the FMA summary.</summary>
        public static void TakePeak(Summary summary)
        {
            foreach (BenchmarkCase bc in summary.BenchmarksCases)
            {
                double? s = MeanSeconds(summary, bc);
                if (s is null) continue;
                var (flops, _, threads) = Of(bc);
                double g = flops / s.Value * 1e-9;
                Peak[threads] = Math.Max(Peak.GetValueOrDefault(threads), g);
            }
        }

        /// <summary>Adds one summary's cases to the closing table.</summary>
        public static void Collect(Summary summary)
        {
            foreach (BenchmarkCase bc in summary.BenchmarksCases)
            {
                double? s = MeanSeconds(summary, bc);
                if (s is null) continue;
                var (flops, images, threads) = Of(bc);
                double g = flops / s.Value * 1e-9;
                string pct = Peak.TryGetValue(threads, out double p) && flops > 0 ? F(100 * g / p, "0.0") + "%" : "-";
                string what = bc.Descriptor.Type.Name.Replace("Benchmarks", "") + "." + bc.Descriptor.WorkloadMethod.Name;
                string prm = string.Join(" ", bc.Parameters.Items.Select(i => $"{i.Name}={i.Value}"));
                Rows.Add($"| {what} | {prm} | {F(s.Value * 1e3, "0.000")} | {F(g, "0.00")} | {pct} | {(images > 0 ? F(images / s.Value, "0") : "-")} |");
            }
        }

        public static string Table()
        {
            var sb = new StringBuilder();
            sb.AppendLine($"FMA peak (GFLOP/s): {string.Join(", ", Peak.OrderBy(k => k.Key).Select(k => $"{k.Key} thread(s) {F(k.Value, "0.0")}"))}; kernel set {IsaSupport.Best}");
            sb.AppendLine();
            sb.AppendLine("| benchmark | parameters | mean ms | GFLOP/s | % of peak | img/s |");
            sb.AppendLine("|---|---|---:|---:|---:|---:|");
            foreach (string r in Rows) sb.AppendLine(r);
            return sb.ToString();
        }
    }

    /// <summary>GFLOP/s, % of the FMA peak for the case's thread count, or images/s.</summary>
    public sealed class MetricColumn : IColumn
    {
        private readonly string _kind;
        public MetricColumn(string kind) { _kind = kind; }
        public string Id => "CnnGen." + _kind;
        public string ColumnName => _kind;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => _kind switch
        {
            "GFLOP/s" => "FLOPs per call / mean time (conv: 2*N*Cout*OH*OW*Cin*k*k per pass, 3 passes with backward)",
            "%peak" => "GFLOP/s as a share of the FMA peak measured in this run for the same thread count",
            _ => "images per call / mean time",
        };
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase bc, SummaryStyle style)
        {
            double? s = Metrics.MeanSeconds(summary, bc);
            if (s is null) return "NA";
            var (flops, images, threads) = Metrics.Of(bc);
            double g = flops / s.Value * 1e-9;
            return _kind switch
            {
                "GFLOP/s" => flops > 0 ? Metrics.F(g, "0.00") : "-",
                "%peak" => flops > 0 && Metrics.Peak.TryGetValue(threads, out double p) ? Metrics.F(100 * g / p, "0.0") + "%" : "-",
                _ => images > 0 ? Metrics.F(images / s.Value, "0") : "-",
            };
        }
    }
}
