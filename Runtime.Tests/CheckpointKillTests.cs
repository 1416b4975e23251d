// Crash safety of checkpoints under real kills: a process that saves a checkpoint after every training step is
// SIGKILLed at random moments, 100 times. Each time the checkpoint on disk must load, must be the last one whose save
// completed (or the one being written, if its rename had already happened), and must be bit-for-bit the state after
// that many steps, which a replay of the training checks.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests
{
    public class CheckpointKillTests(ITestOutputHelper output)
    {
        private const int Rounds = 100;

        private static ProcessStartInfo Target(params string[] args)
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "CnnGen.Runtime.CrashTarget.dll");
            Assert.True(File.Exists(dll), $"expected the crash target next to the tests at {dll}");
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(dll);
            foreach (string a in args) info.ArgumentList.Add(a);
            return info;
        }

        [Fact]
        public void LastCompleteCheckpointSurvives100Sigkills()
        {
            using var dir = new TempDirectory();
            string checkpoint = dir.File("run.ckpt");
            var random = new Random(2026);
            var expected = new List<(string Copy, int Saved, bool DuringSave)>();
            for (int round = 0; round < Rounds; round++)
            {
                var lines = new List<string>();
                var firstSave = new ManualResetEventSlim(false);
                using Process process = Process.Start(Target("save", checkpoint))!;
                process.OutputDataReceived += (_, e) =>
                {
                    if (e.Data is null) return;
                    lock (lines) lines.Add(e.Data);
                    if (e.Data.StartsWith("saved ", StringComparison.Ordinal)) firstSave.Set();
                };
                process.ErrorDataReceived += (_, _) => { };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                Assert.True(firstSave.Wait(TimeSpan.FromSeconds(60)), $"round {round}: no checkpoint within a minute");
                Thread.Sleep(random.Next(0, 60));
                if (process.HasExited) Assert.Fail($"round {round}: the target exited by itself (code {process.ExitCode})");
                process.Kill();            // SIGKILL: no finally blocks, no flushes
                process.WaitForExit();     // also drains the redirected output

                string last;
                int saved;
                lock (lines)
                {
                    last = lines[^1];
                    saved = lines.Where(l => l.StartsWith("saved ", StringComparison.Ordinal)).Select(l => int.Parse(l[6..])).Max();
                }
                string copy = dir.File($"round{round:D3}.ckpt");
                File.Copy(checkpoint, copy);
                expected.Add((copy, saved, last.StartsWith("begin ", StringComparison.Ordinal)));
            }

            // One process checks every copy: it loads and replays each (a failed load is reported, not thrown).
            using Process verify = Process.Start(Target(["verify", .. expected.Select(e => e.Copy)]))!;
            Task<string> errors = verify.StandardError.ReadToEndAsync();
            string[] report = verify.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(verify.WaitForExit(300_000), "verify did not finish within 5 minutes");
            Assert.True(verify.ExitCode == 0, string.Join("\n", report.Where(l => !l.StartsWith("OK", StringComparison.Ordinal))) + errors.Result);
            Assert.Equal(Rounds, report.Length);

            int duringSave = 0, newer = 0;
            for (int round = 0; round < Rounds; round++)
            {
                (string copy, int saved, bool duringSaveRound) = expected[round];
                string[] parts = report[round].Split(' ');
                Assert.Equal(["OK", copy], parts[..2]);
                int step = int.Parse(parts[2]);
                // Killed between saves: exactly the last completed one. Killed inside save N + 1: N, or N + 1 if its rename had happened.
                if (duringSaveRound) Assert.InRange(step, saved, saved + 1);
                else Assert.Equal(saved, step);
                if (duringSaveRound) duringSave++;
                if (step > saved) newer++;
            }
            int strayTemps = Directory.GetFiles(dir.Path, "run.ckpt.tmp-*").Length;
            output.WriteLine($"{Rounds} kills, {duringSave} inside a save ({newer} after its rename), {strayTemps} temp files left by killed saves; every checkpoint loaded and matched its replay");
            Assert.True(duringSave >= 10, $"only {duringSave} of {Rounds} kills landed inside a save; the test would not test much");
        }
    }
}
