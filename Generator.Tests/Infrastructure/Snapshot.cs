// A tiny snapshot check following Verify's conventions (Verify.Xunit itself cannot be restored here): the expected
// text is <TestClassFileDir>/Snapshots/<TestClass>.<TestMethod>.verified.<ext>; on a mismatch the actual text goes
// to ...received.<ext> (git-ignored) and the test fails saying how to accept it.
using System;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit.Sdk;

namespace CnnGen.Tests.Infrastructure
{
    public static class Snapshot
    {
        public static void Verify(string actual, string extension = "cs", [CallerFilePath] string file = "", [CallerMemberName] string member = "")
        {
            if (file.Length == 0 || !File.Exists(file))
                throw new XunitException($"Snapshot.Verify needs the test's source file to find its snapshots, but '{file}' does not exist (was the build path-mapped?).");
            string directory = Path.Combine(Path.GetDirectoryName(file)!, "Snapshots");
            string stem = Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(file)}.{member}");
            string verifiedPath = $"{stem}.verified.{extension}";
            string receivedPath = $"{stem}.received.{extension}";
            string normalised = Normalise(actual);

            if (File.Exists(verifiedPath) && Normalise(File.ReadAllText(verifiedPath)) == normalised)
            {
                if (File.Exists(receivedPath)) File.Delete(receivedPath);
                return;
            }

            Directory.CreateDirectory(directory);
            File.WriteAllText(receivedPath, normalised);
            string why = File.Exists(verifiedPath)
                ? $"differs from {verifiedPath}{FirstDifference(Normalise(File.ReadAllText(verifiedPath)), normalised)}"
                : $"has no verified snapshot yet ({verifiedPath} is missing)";
            throw new XunitException(
                $"The output of {member} {why}.\nWrote {receivedPath}.\n" +
                $"Review it (e.g. `diff {verifiedPath} {receivedPath}`) and, if it is right, accept it with `mv {receivedPath} {verifiedPath}`.");
        }

        private static string Normalise(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');

        private static string FirstDifference(string expected, string actual)
        {
            string[] e = expected.Split('\n'), a = actual.Split('\n');
            for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
            {
                string el = i < e.Length ? e[i] : "<end of file>", al = i < a.Length ? a[i] : "<end of file>";
                if (el != al) return $" first at line {i + 1}:\n  verified: {el}\n  received: {al}";
            }
            return "";
        }
    }
}
