// Source-generated JSON for the training history file (no reflection, so the samples stay trim- and AOT-safe).
using System.Collections.Generic;
using System.Text.Json.Serialization;
using CnnGen.Training;

namespace CnnGen.Samples.Cli
{
    [JsonSourceGenerationOptions(WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
    [JsonSerializable(typeof(List<EpochResult>))]
    internal sealed partial class SamplesJson : JsonSerializerContext;
}
