// How training looks: live Spectre.Console progress bars (batch progress, running loss and accuracy, images/s,
// time left) on a terminal; one plain line per epoch (and per quarter epoch) when the output is redirected.
// A table of every epoch closes the run either way.
using System;
using System.Collections.Generic;
using System.Globalization;
using CnnGen.Training;
using Spectre.Console;

namespace CnnGen.Samples.Cli
{
    public sealed class TrainingView
    {
        private readonly bool _interactive;

        public TrainingView(bool? interactive = null)
        {
            _interactive = interactive ?? (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected);
        }

        public static string EpochLine(EpochResult r) => string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch}/{r.Epochs}  loss {r.Loss:F4}  train {r.TrainAccuracy * 100:F2}%  test {r.TestAccuracy * 100:F2}%  " +
            $"{r.ImagesPerSecond:F0} img/s  {r.Seconds:F1} s  lr {r.LearningRate:G3}  " +
            // Process memory when the epoch ended: flat from epoch to epoch in a healthy run (bench/longrun.sh watches it).
            $"mem {Environment.WorkingSet / 1048576.0:F0} MiB (managed {GC.GetTotalMemory(forceFullCollection: false) / 1048576.0:F1} MiB)");

        /// <summary>Runs <paramref name="train"/> (given the two callbacks) under the chosen display.</summary>
        /// <summary>Runs <paramref name="train"/> and then prints the table of <paramref name="history"/> (every epoch so
        /// far, including those of a resumed run).</summary>
        public void Run(Func<Action<EpochResult>, Action<BatchProgress>, IReadOnlyList<EpochResult>> train, IReadOnlyList<EpochResult> history)
        {
            if (_interactive) RunLive(train); else RunPlain(train);
            AnsiConsole.Write(Table(history));
        }

        private static IReadOnlyList<EpochResult> RunPlain(Func<Action<EpochResult>, Action<BatchProgress>, IReadOnlyList<EpochResult>> train)
        {
            int lastQuarter = 0;
            return train(
                r => { Console.WriteLine(EpochLine(r)); lastQuarter = 0; },
                p =>
                {
                    int quarter = (int)(4 * p.Seen / p.Total);
                    if (quarter <= lastQuarter || quarter >= 4) return;
                    lastQuarter = quarter;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  epoch {p.Epoch}/{p.Epochs}  {p.Seen,6}/{p.Total} images  loss {p.Loss:F4}  acc {p.Accuracy * 100:F2}%  {p.ImagesPerSecond:F0} img/s"));
                });
        }

        private static IReadOnlyList<EpochResult> RunLive(Func<Action<EpochResult>, Action<BatchProgress>, IReadOnlyList<EpochResult>> train)
        {
            IReadOnlyList<EpochResult> results = Array.Empty<EpochResult>();
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    ProgressTask? task = null;
                    results = train(
                        r =>
                        {
                            if (task is null) return;
                            task.Description = Markup.Escape(EpochLine(r));
                            task.Value = task.MaxValue;
                            task.StopTask();
                            task = null;
                        },
                        p =>
                        {
                            task ??= ctx.AddTask($"epoch {p.Epoch}/{p.Epochs}", maxValue: p.Total);
                            task.Value = p.Seen;
                            task.Description = string.Create(CultureInfo.InvariantCulture,
                                $"epoch {p.Epoch}/{p.Epochs}  loss {p.Loss:F4}  acc {p.Accuracy * 100:F2}%  {p.ImagesPerSecond:F0} img/s");
                        });
                });
            return results;
        }

        public static Table Table(IReadOnlyList<EpochResult> results)
        {
            var table = new Table().Title("training").AddColumns("epoch", "loss", "train acc", "test acc", "test loss", "img/s", "seconds", "lr");
            foreach (var r in results)
                table.AddRow(
                    r.Epoch.ToString(CultureInfo.InvariantCulture),
                    r.Loss.ToString("F4", CultureInfo.InvariantCulture),
                    (r.TrainAccuracy * 100).ToString("F2", CultureInfo.InvariantCulture) + "%",
                    (r.TestAccuracy * 100).ToString("F2", CultureInfo.InvariantCulture) + "%",
                    r.TestLoss.ToString("F4", CultureInfo.InvariantCulture),
                    r.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture),
                    r.Seconds.ToString("F1", CultureInfo.InvariantCulture),
                    r.LearningRate.ToString("G3", CultureInfo.InvariantCulture));
            return table;
        }
    }
}
