// Runs the dotnet CLI from a test: captured output, a hard timeout that kills the whole process tree, and an
// environment cleaned of what the outer `dotnet test` leaves behind.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;

namespace CnnGen.Package.Tests
{
    public sealed record ProcessResult(int ExitCode, string Output, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit code {ExitCode} after {Elapsed.TotalSeconds:F1} s:\n{Output}";
    }

    public static class DotNet
    {
        /// <summary>The dotnet host that runs this test (testhost is started by it), else the one on PATH.</summary>
        public static string HostPath
        {
            get
            {
                string? fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
                if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
                string? self = Environment.ProcessPath;
                if (self != null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
                return "dotnet";
            }
        }

        /// <summary>True for variables that must not reach a nested build: the JIT's instruction-set knobs
        /// (CI runs the suite with DOTNET_EnableAVX512=0 / DOTNET_EnableAVX2=0; they would slow or skew the
        /// compiler and MSBuild), and MSBuild's own variables that the outer build/test can leave behind
        /// (MSBuildExtensionsPath, MSBUILD_EXE_PATH, MSBuildSDKsPath, ...), which point a nested build at the
        /// outer one's state.</summary>
        public static bool IsBuildHostile(string name) =>
            name.StartsWith("DOTNET_Enable", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("COMPlus_Enable", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("MSBUILD_", StringComparison.OrdinalIgnoreCase)
            || name.Equals("NUGET_PACKAGES", StringComparison.OrdinalIgnoreCase);

        /// <summary>Runs <c>dotnet args</c> in <paramref name="workingDirectory"/>. <paramref name="forBuild"/> strips
        /// <see cref="IsBuildHostile"/> variables; <paramref name="environment"/> then sets (or, with null, removes) variables.</summary>
        public static ProcessResult Run(string workingDirectory, IEnumerable<string> args, TimeSpan timeout,
            bool forBuild, IReadOnlyDictionary<string, string?>? environment = null)
        {
            var psi = new ProcessStartInfo(HostPath)
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (string a in args) psi.ArgumentList.Add(a);
            if (forBuild)
            {
                foreach (string key in new List<string>(psi.Environment.Keys))
                    if (IsBuildHostile(key)) psi.Environment.Remove(key);
            }
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            psi.Environment["DOTNET_NOLOGO"] = "1";
            psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
            psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
            if (environment != null)
                foreach (KeyValuePair<string, string?> kv in environment)
                {
                    if (kv.Value is null) psi.Environment.Remove(kv.Key);
                    else psi.Environment[kv.Key] = kv.Value;
                }

            var output = new StringBuilder();
            var stopwatch = Stopwatch.StartNew();
            using var process = new Process { StartInfo = psi };
            // A null line is the end of a stream: both must arrive before the output is complete.
            using var outputClosed = new ManualResetEventSlim();
            using var errorClosed = new ManualResetEventSlim();
            process.OutputDataReceived += (_, e) => { if (e.Data is null) outputClosed.Set(); else lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is null) errorClosed.Set(); else lock (output) output.AppendLine(e.Data); };
            process.Start();
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                process.WaitForExit(5000);
                lock (output)
                    throw new TimeoutException($"dotnet {string.Join(' ', psi.ArgumentList)} did not finish within {timeout.TotalSeconds} s; output so far:\n{output}");
            }
            // The process has exited. WaitForExit(timeout) does not wait for the asynchronous readers, so under load the
            // last lines (the build's errors) could be missing: wait for both streams' end, bounded, because a leftover
            // grandchild holding a pipe must not hang the test.
            outputClosed.Wait(TimeSpan.FromSeconds(60));
            errorClosed.Wait(TimeSpan.FromSeconds(60));
            lock (output)
                return new ProcessResult(process.ExitCode, output.ToString(), stopwatch.Elapsed);
        }
    }
}
