// The samples' command line, run as a child process exactly as users run it: argument errors print usage help to
// stderr with exit code 2, missing files say what to do, and summary prints the compile-time table.
using System;
using System.Diagnostics;
using System.IO;

namespace CnnGen.Tests.Cli
{
    public sealed class CliTests
    {
        /// <summary>The samples' CLI as a child process, with a data directory that does not exist. Also used by ZooCliTests.</summary>
        internal static ProcessStartInfo Samples(params string[] args)
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "CnnGen.Samples.dll");
            Assert.True(File.Exists(dll), $"expected the samples next to the tests at {dll}");
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(dll);
            foreach (string a in args) info.ArgumentList.Add(a);
            info.Environment["CNNGEN_DATA"] = Path.Combine(Path.GetTempPath(), "cnngen-no-data-" + Guid.NewGuid().ToString("N"));
            return info;
        }

        private static (int Exit, string Out, string Err) Run(params string[] args)
        {
            using Process process = Process.Start(Samples(args))!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(60_000), "the CLI did not finish within a minute");
            return (process.ExitCode, stdout.Result, stderr);
        }

        [Fact]
        public void MemoryCommandReportsThePlanAndThatTheConstructorAllocatedExactlyIt()
        {
            (int exit, string stdout, string stderr) = Run("memory", "--model", "fashion", "--batch", "4", "--threads", "2", "--steps", "2");
            Assert.True(exit == 0, stderr);
            Assert.Contains("static memory plan (generated PlannedBytes)", stdout);
            Assert.Contains("(= plan)", stdout);
            Assert.Matches(@"peak growth / \(plan \+ optimizer state \+ input batch\) = \d+\.\d\d", stdout);
        }

        [Theory]
        [InlineData("forward")]
        [InlineData("train")]
        public void TimeCommandPrintsAMedianForEitherMode(string mode)
        {
            (int exit, string stdout, string stderr) = Run("time", "--model", "fashion", "--mode", mode, "--batch", "2", "--threads", "1", "--seconds", "1");
            Assert.True(exit == 0, stderr);
            Assert.Matches($@"^RESULT fashion {mode} batch 2 threads 1 median \d+\.\d{{3}} ms best \d+\.\d{{3}} ms", stdout);
        }

        [Theory]
        [InlineData(new[] { "train", "--epochs", "0" }, "--epochs must be a positive integer, but was '0'.")]
        [InlineData(new[] { "train", "--optimizer", "rmsprop" }, "rmsprop")]
        [InlineData(new[] { "train", "--batch", "many" }, "many")]
        [InlineData(new[] { "train", "--lr", "-1" }, "--lr must be a positive number")]
        [InlineData(new[] { "train", "--frobnicate" }, "--frobnicate")]
        [InlineData(new[] { "summary", "--model", "resnet9000" }, "resnet9000")]
        [InlineData(new[] { "bogus" }, "bogus")]
        [InlineData(new[] { "time", "--mode", "backward" }, "backward")]
        public void ArgumentErrorsPrintUsageAndExitWithTwo(string[] args, string expected)
        {
            (int exit, string output, string error) = Run(args);
            Assert.Equal(2, exit);
            Assert.Contains(expected, error);
            Assert.Contains("Usage:", error);
            Assert.DoesNotContain("Unhandled exception", error + output);
        }

        [Fact]
        public void SummaryPrintsTheCompileTimeTable()
        {
            (int exit, string output, string error) = Run("summary", "--model", "fashion");
            Assert.Equal(0, exit);
            Assert.Contains("Total params: 455,338", output);
            Assert.Contains("conv3 (Conv2D)              (None, 5, 5, 144)         93,456", output);
            Assert.Equal("", error);

            // Without --model: the main job's network.
            (exit, output, error) = Run("summary");
            Assert.Equal(0, exit);
            Assert.Contains("Model: \"FashionResNet\"", output);
            Assert.Contains("Trainable params: 173,842", output);
            Assert.Equal("", error);
        }

        [Fact]
        public void MissingDataSaysHowToGetItAndExitsWithThree()
        {
            (int exit, _, string error) = Run("train", "--epochs", "1");
            Assert.Equal(3, exit);
            Assert.Contains("apt-get install dataset-fashion-mnist", error);
        }

        [Fact]
        public void MissingWeightsSayHowToMakeThem()
        {
            string dir = Path.Combine(Path.GetTempPath(), "cnngen-cli-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                // Eval needs data before weights; give it a tiny valid IDX test set so the weights check is reached.
                WriteIdx(dir);
                var info = Run("eval", "--data", dir, "--weights", Path.Combine(dir, "none.safetensors"));
                Assert.Equal(1, info.Exit);
                Assert.Contains("No weights at", info.Err);
                Assert.Contains("--weights FILE", info.Err);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        /// <summary>
        /// The atomic-save guarantee under a real crash: `train --checkpoint` on a two-image data set rewrites its
        /// checkpoint every few milliseconds; the process is SIGKILLed at random moments, and every time the file on
        /// disk must load completely (a kill mid-save leaves at most a stray temp file, never a torn checkpoint).
        /// </summary>
        [Fact]
        public void CheckpointSurvivesSigkillDuringSaves()
        {
            string dir = Path.Combine(Path.GetTempPath(), "cnngen-kill-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                WriteIdx(dir);
                string checkpoint = Path.Combine(dir, "run.ckpt");
                var random = new Random(7);
                int killedAfterSaves = 0;
                for (int round = 0; round < 8; round++)
                {
                    using Process process = Process.Start(Samples("train", "--model", "fashion", "--data", dir, "--epochs", "100000", "--batch", "2",
                        "--threads", "1", "--checkpoint", checkpoint, "--save", Path.Combine(dir, "final.safetensors")))!;
                    process.OutputDataReceived += (_, _) => { };
                    process.ErrorDataReceived += (_, _) => { };
                    process.BeginOutputReadLine();
                    process.BeginErrorReadLine();
                    var clock = Stopwatch.StartNew();
                    while (!File.Exists(checkpoint) && clock.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited) System.Threading.Thread.Sleep(5);
                    Assert.False(process.HasExited, "training stopped before it was killed");
                    Assert.True(File.Exists(checkpoint), "no checkpoint appeared within a minute");
                    System.Threading.Thread.Sleep(random.Next(20, 400));
                    process.Kill();   // SIGKILL: no finally blocks, no flushes
                    process.WaitForExit();
                    killedAfterSaves++;

                    using var net = new CnnGen.Samples.FashionNet(maxBatch: 2);
                    using var adam = new Adam();
                    var info = CnnGen.Weights.Checkpoint.Load(net, adam, checkpoint);
                    Assert.True(info.Epoch >= 1, $"round {round}: checkpoint claims epoch {info.Epoch}");
                    Assert.True(adam.Steps >= 1, $"round {round}: the optimizer state of a completed epoch is missing");
                }
                Assert.Equal(8, killedAfterSaves);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        private static void WriteIdx(string dir)
        {
            static byte[] Header(params int[] words)
            {
                var bytes = new byte[words.Length * 4];
                for (int i = 0; i < words.Length; i++)
                {
                    bytes[4 * i] = (byte)(words[i] >> 24); bytes[4 * i + 1] = (byte)(words[i] >> 16);
                    bytes[4 * i + 2] = (byte)(words[i] >> 8); bytes[4 * i + 3] = (byte)words[i];
                }
                return bytes;
            }
            foreach (string set in new[] { "train", "t10k" })
            {
                using (var images = File.Create(Path.Combine(dir, $"{set}-images-idx3-ubyte")))
                {
                    images.Write(Header(0x803, 2, 28, 28));
                    images.Write(new byte[2 * 28 * 28]);
                }
                using var labels = File.Create(Path.Combine(dir, $"{set}-labels-idx1-ubyte"));
                labels.Write(Header(0x801, 2));
                labels.Write(new byte[] { 3, 7 });
            }
        }
    }
}
