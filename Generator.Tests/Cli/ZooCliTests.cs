// The model zoo on the command line, run as a child process like CliTests: every zoo network prints its compile-time
// summary, `models` lists them all, and commands that run a network on Fashion-MNIST refuse the ImageNet-size ones
// with a usage error (exit code 2) before loading data or allocating anything.
using System;
using System.Diagnostics;
using System.IO;
using CnnGen.Samples;

namespace CnnGen.Tests.Cli
{
    public sealed class ZooCliTests
    {
        private static (int Exit, string Out, string Err, TimeSpan Time) Run(params string[] args)
        {
            // No data set: a command that got past the model check would exit with 3 (data missing) instead of 2.
            ProcessStartInfo info = CliTests.Samples(args);
            var clock = Stopwatch.StartNew();
            using Process process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(60_000), "the CLI did not finish within a minute");
            return (process.ExitCode, stdout.Result, stderr, clock.Elapsed);
        }

        [Theory]
        [InlineData("resnet50", "Trainable params: 25,557,032", " bottleneck16.relu3 (ReLU)")]
        [InlineData("densenet121", "Trainable params: 7,978,856", " denseblock4.layer16.conv2 (Conv2D)")]
        [InlineData("googlenet", "Trainable params: 13,004,888", " aux2.dense2 (Dense, aux)")]
        [InlineData("alexnet-original", "Trainable params: 60,965,224", " lrn2 (LocalResponseNorm)")]
        public void SummaryPrintsAZooNetwork(string model, string total, string row)
        {
            (int exit, string output, string error, _) = Run("summary", "--model", model);
            Assert.Equal("", error);
            Assert.Equal(0, exit);
            Assert.Contains(total, output);
            Assert.Contains(row, output);
        }

        [Fact]
        public void ModelsListsEveryNetwork()
        {
            (int exit, string output, string error, _) = Run("models");
            Assert.Equal("", error);
            Assert.Equal(0, exit);
            foreach (ModelEntry m in Models.All)
            {
                string line = Array.Find(output.Split('\n'), l => l.StartsWith(m.Name + " ", StringComparison.Ordinal))
                    ?? throw new Xunit.Sdk.XunitException($"models does not list {m.Name}:\n{output}");
                Assert.Contains($"{m.Height}x{m.Width}x{m.Channels}", line);
                Assert.Contains(m.ParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), line);
                Assert.Contains("Samples/" + m.File, line);
            }
        }

        [Theory]
        [InlineData("train", "vgg16")]
        [InlineData("eval", "resnet50")]
        [InlineData("predict", "densenet121")]
        [InlineData("visualize", "nin")]
        public void FashionMnistCommandsRefuseOtherInputShapes(string command, string model)
        {
            (int exit, string output, string error, TimeSpan time) = Run(command, "--model", model);
            Assert.Equal(2, exit);
            Assert.Contains($"{command} runs on Fashion-MNIST (28x28x1 images, 10 classes), but model '{model}' takes", error);
            Assert.Contains("Use a 28x28x1 model (fashion, fashion-resnet)", error);
            Assert.DoesNotContain("Unhandled exception", error + output);
            Assert.DoesNotContain("dataset-fashion-mnist", error); // refused before looking for data
            Assert.True(time < TimeSpan.FromSeconds(30), $"refusing took {time}");
        }
    }
}
