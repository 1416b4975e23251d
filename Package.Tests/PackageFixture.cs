// Packs CnnGen once per test run into a temporary local feed and prepares everything a consumer outside the
// solution needs: a nuget.config (that feed first, then the machine's own sources, with CnnGen mapped to the
// local feed only) and a fresh packages folder, so a CnnGen 0.1.0 cached by an earlier run is never used.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security;
using System.Text;

namespace CnnGen.Package.Tests
{
    public sealed class PackageFixture : IDisposable
    {
        public const string PackageId = "CnnGen";
        public const string PackageVersion = "0.1.0";
        public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(150);

#if DEBUG
        public const string Configuration = "Debug";
#else
        public const string Configuration = "Release";
#endif

        public PackageFixture()
        {
            RepositoryRoot = FindRepositoryRoot(AppContext.BaseDirectory);
            Root = Path.Combine(Path.GetTempPath(), "cnngen-package-tests-" + Guid.NewGuid().ToString("N")[..12]);
            Feed = Path.Combine(Root, "feed");
            Packages = Path.Combine(Root, "packages");
            Directory.CreateDirectory(Feed);
            Directory.CreateDirectory(Packages);
            // Stop MSBuild's upward search for Directory.Build.* / Directory.Packages.props at the temp root.
            File.WriteAllText(Path.Combine(Root, "Directory.Build.props"), "<Project />\n");
            File.WriteAllText(Path.Combine(Root, "Directory.Build.targets"), "<Project />\n");
            File.WriteAllText(Path.Combine(Root, "Directory.Packages.props"), "<Project />\n");

            // The test project references the package project, so its inputs are built in this configuration.
            ProcessResult pack = DotNet.Run(RepositoryRoot, new[]
            {
                "pack", Path.Combine(RepositoryRoot, "Package", "CnnGen.Package.csproj"),
                "-c", Configuration, "--no-build", "-o", Feed,
                "-p:NuspecOutputPath=" + Path.Combine(Root, "nuspec") + Path.DirectorySeparatorChar,
            }, CommandTimeout, forBuild: true);
            PackLog = pack.ToString();
            NupkgPath = Path.Combine(Feed, $"{PackageId}.{PackageVersion}.nupkg");
            if (pack.ExitCode != 0 || !File.Exists(NupkgPath))
                throw new InvalidOperationException($"dotnet pack failed ({NupkgPath} missing): {pack}");

            File.WriteAllText(Path.Combine(Root, "nuget.config"), NuGetConfig(Feed, MachineSources(Root)));
        }

        /// <summary>The directory holding CnnGen.sln.</summary>
        public string RepositoryRoot { get; }
        /// <summary>Temporary root: feed/, packages/, nuget.config, and one folder per consumer.</summary>
        public string Root { get; }
        public string Feed { get; }
        public string Packages { get; }
        public string NupkgPath { get; }
        public string PackLog { get; }

        /// <summary>Writes a consumer project (console, net10.0, PackageReference CnnGen 0.1.0) with the given
        /// Program.cs under <see cref="Root"/> and returns its directory.</summary>
        public string CreateConsumer(string name, string programSource)
        {
            string dir = Path.Combine(Root, name);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, name + ".csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>disable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="{PackageId}" Version="{PackageVersion}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(dir, "Program.cs"), programSource);
            return dir;
        }

        /// <summary>Restores (from the local feed into the fresh packages folder) and builds a consumer.
        /// Build servers are off so that no MSBuild node or compiler server outlives the command.</summary>
        public ProcessResult Build(string consumerDir) =>
            DotNet.Run(consumerDir, new[] { "build", "-c", "Release", "--disable-build-servers", "-nologo", "-clp:NoSummary" },
                CommandTimeout, forBuild: true,
                new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Packages });

        public static string FindRepositoryRoot(string start)
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "CnnGen.sln"))) return dir.FullName;
            throw new InvalidOperationException($"No CnnGen.sln in '{start}' or any directory above it.");
        }

        /// <summary>The enabled package sources this machine's NuGet configuration gives a directory outside the
        /// repository (user-level and machine-wide config), as (name, source) pairs.</summary>
        private static List<(string Name, string Source)> MachineSources(string directory)
        {
            ProcessResult list = DotNet.Run(directory, new[] { "nuget", "list", "source", "--format", "Detailed" },
                TimeSpan.FromSeconds(60), forBuild: true);
            // Detailed format:  "  1.  nuget.org [Enabled]" followed by "      https://api.nuget.org/v3/index.json"
            var sources = new List<(string, string)>();
            string[] lines = list.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            for (int i = 0; i + 1 < lines.Length; i++)
            {
                string line = lines[i].Trim();
                int dot = line.IndexOf(".  ", StringComparison.Ordinal);
                if (dot <= 0 || !line[..dot].All(char.IsDigit) || !line.EndsWith("[Enabled]", StringComparison.Ordinal)) continue;
                string name = line[(dot + 3)..^"[Enabled]".Length].Trim();
                string source = lines[i + 1].Trim();
                if (name.Length > 0 && source.Length > 0) sources.Add((name, source));
            }
            if (list.ExitCode != 0 || sources.Count == 0)
                sources.Add(("nuget.org", "https://api.nuget.org/v3/index.json"));
            return sources;
        }

        private static string NuGetConfig(string feed, List<(string Name, string Source)> machineSources)
        {
            static string X(string s) => SecurityElement.Escape(s);
            var sb = new StringBuilder();
            sb.AppendLine("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            sb.AppendLine("<configuration>");
            sb.AppendLine("  <packageSources>");
            sb.AppendLine("    <clear />");
            sb.AppendLine($"    <add key=\"cnngen-local\" value=\"{X(feed)}\" />");
            foreach ((string name, string source) in machineSources)
                sb.AppendLine($"    <add key=\"{X(name)}\" value=\"{X(source)}\" />");
            sb.AppendLine("  </packageSources>");
            // CnnGen comes from the local feed only (never a same-named package elsewhere); everything else
            // (System.Numerics.Tensors) from the machine's sources.
            sb.AppendLine("  <packageSourceMapping>");
            sb.AppendLine("    <packageSource key=\"cnngen-local\">");
            sb.AppendLine($"      <package pattern=\"{PackageId}\" />");
            sb.AppendLine("    </packageSource>");
            foreach ((string name, _) in machineSources)
            {
                sb.AppendLine($"    <packageSource key=\"{X(name)}\">");
                sb.AppendLine("      <package pattern=\"*\" />");
                sb.AppendLine("    </packageSource>");
            }
            sb.AppendLine("  </packageSourceMapping>");
            sb.AppendLine("</configuration>");
            return sb.ToString();
        }

        public void Dispose()
        {
            try { Directory.Delete(Root, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
