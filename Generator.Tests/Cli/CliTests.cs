// The samples' command line, run as a child process exactly as users run it: argument errors print usage help to
// stderr with exit code 2, missing files say what to do, and summary prints the compile-time table.
using System;
using System.Diagnostics;
using System.IO;

namespace CnnGen.Tests.Cli
{
    public sealed class CliTests
    {
        private static (int Exit, string Out, string Err) Run(params string[] args)
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "CnnGen.Samples.dll");
            Assert.True(File.Exists(dll), $"expected the samples next to the tests at {dll}");
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(dll);
            foreach (string a in args) info.ArgumentList.Add(a);
            info.Environment["CNNGEN_DATA"] = Path.Combine(Path.GetTempPath(), "cnngen-no-data-" + Guid.NewGuid().ToString("N"));
            using Process process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(60_000), "the CLI did not finish within a minute");
            return (process.ExitCode, stdout.Result, stderr);
        }

        [Theory]
        [InlineData(new[] { "train", "--epochs", "0" }, "--epochs must be a positive integer, but was '0'.")]
        [InlineData(new[] { "train", "--optimizer", "rmsprop" }, "rmsprop")]
        [InlineData(new[] { "train", "--batch", "many" }, "many")]
        [InlineData(new[] { "train", "--lr", "-1" }, "--lr must be a positive number")]
        [InlineData(new[] { "train", "--frobnicate" }, "--frobnicate")]
        [InlineData(new[] { "summary", "--model", "resnet9000" }, "resnet9000")]
        [InlineData(new[] { "bogus" }, "bogus")]
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
            (int exit, string output, string error) = Run("summary");
            Assert.Equal(0, exit);
            Assert.Contains("Total params: 455,338", output);
            Assert.Contains("conv3 (Conv2D)              (None, 5, 5, 144)         93,456", output);
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
