// The samples' command line (System.CommandLine): train, eval, summary, models, visualize, predict. Progress is drawn with
// Spectre.Console when the output is a terminal and printed as plain lines otherwise (CI logs stay readable).
// Exit codes: 0 success, 1 failure (bad file, bad argument value), 2 bad usage (parse errors print the command's
// usage; a model whose input is not Fashion-MNIST's for train/eval/predict/visualize), 3 data set missing.
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
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
                root.Parse([.. CommandPath(parsed), "--help"]).Invoke(new InvocationConfiguration { Output = Console.Error });
                return ExitUsage;
            }
            try
            {
                return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            }
            catch (ModelShapeException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return ExitUsage;
            }
            catch (DataNotFoundException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return ExitData;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return ExitFailure;
            }
        }

        /// <summary>The subcommand names leading to the command that was parsed (empty for the root).</summary>
        private static List<string> CommandPath(ParseResult parsed)
        {
            var path = new List<string>();
            for (CommandResult result = parsed.CommandResult; result.Parent is CommandResult parent; result = parent)
                path.Insert(0, result.Command.Name);
            return path;
        }
    }
}
