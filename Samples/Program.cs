// The samples' command line (System.CommandLine): train, eval, summary, predict. Progress is drawn with
// Spectre.Console when the output is a terminal and printed as plain lines otherwise (CI logs stay readable).
// Exit codes: 0 success, 1 failure, 2 bad usage (System.CommandLine's parse errors print usage help), 3 data missing.
using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using CnnGen.Data;
using CnnGen.Samples.Cli;

namespace CnnGen.Samples
{
    public static class Program
    {
        public const int ExitFailure = 1, ExitUsage = 2, ExitData = 3;

        public static int Main(string[] args)
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            RootCommand root = Commands.Build();
            ParseResult parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var error in parsed.Errors) Console.Error.WriteLine("error: " + error.Message);
                Console.Error.WriteLine();
                // Show the help of the command that failed to parse, so the user sees what it accepts.
                var help = new ParseResult[] { root.Parse(PathTo(parsed).Append("--help")) };
                help[0].Invoke(new InvocationConfiguration { Output = Console.Error });
                return ExitUsage;
            }
            try
            {
                return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            }
            catch (Exception e) when (e is DataNotFoundException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return e is DataNotFoundException || e.Message.Contains("IDX", StringComparison.Ordinal) ? ExitData : ExitFailure;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return ExitFailure;
            }
        }

        private static System.Collections.Generic.List<string> PathTo(ParseResult parsed)
        {
            var path = new System.Collections.Generic.List<string>();
            for (var result = parsed.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
                path.Insert(0, result.Command.Name);
            return path;
        }

        private static string[] Append(this System.Collections.Generic.List<string> list, string item)
        {
            list.Add(item);
            return list.ToArray();
        }
    }
}
