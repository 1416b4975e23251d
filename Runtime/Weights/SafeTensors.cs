// The safetensors format (https://github.com/huggingface/safetensors), F32 only: an 8-byte little-endian header
// length N, N bytes of UTF-8 JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {"k": "v"}} (offsets relative to the data after the header; may be padded with spaces), then
// the raw little-endian data. Reading is strict: anything that is not a well-formed F32 file is an
// InvalidDataException naming the file, the tensor and the problem, before any tensor data is returned.
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace CnnGen.Weights
{
    /// <summary>One named F32 tensor: shape (row-major, PyTorch's order) and its values.</summary>
    public sealed class SafeTensor
    {
        public SafeTensor(string name, IReadOnlyList<int> shape, float[] data)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            ArgumentNullException.ThrowIfNull(shape);
            ArgumentNullException.ThrowIfNull(data);
            if (name == SafeTensors.MetadataKey)
                throw new ArgumentException($"'{SafeTensors.MetadataKey}' is reserved for the metadata and cannot name a tensor.", nameof(name));
            long count = SafeTensors.ElementCount(shape)
                ?? throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape)}] has a negative or too large dimension.", nameof(shape));
            if (count != data.Length)
                throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape)}] holds {count} values but {data.Length} were given.", nameof(data));
            Name = name;
            Shape = shape.ToArray();
            Data = data;
        }

        public string Name { get; }
        public IReadOnlyList<int> Shape { get; }
        public float[] Data { get; }

        public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
    }

    /// <summary>The contents of a safetensors file: its tensors (in data order) and its string metadata.</summary>
    public sealed class SafeTensorsFile
    {
        private readonly Dictionary<string, SafeTensor> _byName;

        public SafeTensorsFile(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(tensors);
            _byName = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
            foreach (SafeTensor t in tensors)
                if (!_byName.TryAdd(t.Name, t))
                    throw new ArgumentException($"Tensor name '{t.Name}' appears twice.", nameof(tensors));
            Tensors = tensors.ToArray();
            Metadata = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        }

        public IReadOnlyList<SafeTensor> Tensors { get; }
        public IReadOnlyDictionary<string, string> Metadata { get; }

        public bool TryGet(string name, out SafeTensor tensor) => _byName.TryGetValue(name, out tensor!);
    }

    public static class SafeTensors
    {
        /// <summary>The header key that holds string metadata instead of a tensor.</summary>
        public const string MetadataKey = "__metadata__";
        /// <summary>The only dtype CnnGen reads and writes.</summary>
        public const string F32 = "F32";
        /// <summary>Largest accepted JSON header (the reference implementation's limit).</summary>
        public const long MaxHeaderLength = 100_000_000;

        /// <summary>Reads and validates a whole file.</summary>
        /// <exception cref="InvalidDataException">The file is not a valid F32 safetensors file; the message names the file, tensor and problem.</exception>
        public static SafeTensorsFile Read(string path)
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            return Read(stream, path);
        }

        /// <summary>Reads and validates a seekable stream from its current position to its end;
        /// <paramref name="source"/> names it in error messages.</summary>
        public static SafeTensorsFile Read(Stream stream, string source)
        {
            ArgumentNullException.ThrowIfNull(stream);
            if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable (its length bounds the header).", nameof(stream));
            long available = stream.Length - stream.Position;

            if (available < 8)
                throw Bad(source, $"is {available} bytes long, too short for the 8-byte header length (truncated or not a safetensors file)");
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength > (ulong)(available - 8))
                throw Bad(source, $"declares a {headerLength}-byte header but only {available - 8} bytes follow the header length (truncated or not a safetensors file)");
            if (headerLength > MaxHeaderLength)
                throw Bad(source, $"declares a {headerLength}-byte header, more than the {MaxHeaderLength}-byte limit");
            if (headerLength < 2)
                throw Bad(source, $"declares a {headerLength}-byte header, too short for a JSON object");

            var header = new byte[(int)headerLength];
            stream.ReadExactly(header);
            long dataLength = available - 8 - (long)headerLength;
            (List<Entry> entries, Dictionary<string, string> metadata) = ParseHeader(header, source);
            CheckLayout(entries, dataLength, source);

            var tensors = new List<SafeTensor>(entries.Count);
            foreach (Entry e in entries)
            {
                // CheckLayout made the entries contiguous from 0, so the stream is already at e.Begin.
                var data = new float[(e.End - e.Begin) / sizeof(float)];
                Span<byte> bytes = MemoryMarshal.AsBytes(data.AsSpan());
                int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
                if (read != bytes.Length)
                    throw Bad(source, $"ends inside the data of tensor '{e.Name}' (the file changed while being read?)");
                if (!BitConverter.IsLittleEndian)
                    for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
                tensors.Add(new SafeTensor(e.Name, e.Shape, data));
            }
            return new SafeTensorsFile(tensors, metadata);
        }

        /// <summary>Writes <paramref name="file"/> to <paramref name="stream"/>: tensors in the given order, contiguous,
        /// header padded with spaces to a multiple of 8 bytes.</summary>
        public static void Write(Stream stream, SafeTensorsFile file)
        {
            ArgumentNullException.ThrowIfNull(stream);
            ArgumentNullException.ThrowIfNull(file);
            byte[] header = BuildHeader(file);
            Span<byte> lengthBytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)header.Length);
            stream.Write(lengthBytes);
            stream.Write(header);
            byte[]? swap = BitConverter.IsLittleEndian ? null : new byte[4];
            foreach (SafeTensor t in file.Tensors)
            {
                if (swap is null) { stream.Write(MemoryMarshal.AsBytes(t.Data.AsSpan())); continue; }
                foreach (float v in t.Data) { BinaryPrimitives.WriteSingleLittleEndian(swap, v); stream.Write(swap); }
            }
        }

        /// <summary>Writes a file at <paramref name="path"/> (not atomically; see <see cref="WeightFile"/> for that).</summary>
        public static void Write(string path, SafeTensorsFile file)
        {
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
            Write(stream, file);
        }

        internal static byte[] BuildHeader(SafeTensorsFile file)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                if (file.Metadata.Count > 0)
                {
                    json.WriteStartObject(MetadataKey);
                    foreach (KeyValuePair<string, string> kv in file.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                        json.WriteString(kv.Key, kv.Value);
                    json.WriteEndObject();
                }
                long offset = 0;
                foreach (SafeTensor t in file.Tensors)
                {
                    long bytes = (long)t.Data.Length * sizeof(float);
                    json.WriteStartObject(t.Name);
                    json.WriteString("dtype", F32);
                    json.WriteStartArray("shape");
                    foreach (int d in t.Shape) json.WriteNumberValue(d);
                    json.WriteEndArray();
                    json.WriteStartArray("data_offsets");
                    json.WriteNumberValue(offset);
                    json.WriteNumberValue(offset + bytes);
                    json.WriteEndArray();
                    json.WriteEndObject();
                    offset += bytes;
                }
                json.WriteEndObject();
            }
            int length = (int)buffer.Length;
            int padded = (length + 7) & ~7;
            for (int i = length; i < padded; i++) buffer.WriteByte((byte)' ');
            return buffer.ToArray();
        }

        private sealed record Entry(string Name, int[] Shape, long Begin, long End);

        private static (List<Entry>, Dictionary<string, string>) ParseHeader(byte[] header, string source)
        {
            JsonDocument doc;
            try
            {
                // Strict UTF-8 first: JsonDocument would report bad bytes, but with a less helpful message.
                new UTF8Encoding(false, throwOnInvalidBytes: true).GetCharCount(header);
                doc = JsonDocument.Parse(header, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false, MaxDepth = 8 });
            }
            catch (DecoderFallbackException e)
            {
                throw Bad(source, $"has a header that is not valid UTF-8 ({e.Message})");
            }
            catch (JsonException e)
            {
                throw Bad(source, $"has a header that is not valid JSON ({e.Message})");
            }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw Bad(source, $"has a JSON header that is a {doc.RootElement.ValueKind}, not an object");
                var entries = new List<Entry>();
                var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (JsonProperty property in doc.RootElement.EnumerateObject())
                {
                    string name = property.Name;
                    if (!seen.Add(name))
                        throw Bad(source, name == MetadataKey ? $"has '{MetadataKey}' twice in its header" : $"has tensor '{name}' twice in its header");
                    if (name == MetadataKey)
                    {
                        if (property.Value.ValueKind != JsonValueKind.Object)
                            throw Bad(source, $"has '{MetadataKey}' that is a {property.Value.ValueKind}, not an object of strings");
                        foreach (JsonProperty m in property.Value.EnumerateObject())
                        {
                            if (m.Value.ValueKind != JsonValueKind.String)
                                throw Bad(source, $"has metadata '{m.Name}' that is a {m.Value.ValueKind}, not a string");
                            if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                                throw Bad(source, $"has metadata '{m.Name}' twice");
                        }
                        continue;
                    }
                    entries.Add(ParseEntry(name, property.Value, source));
                }
                return (entries, metadata);
            }
        }

        private static Entry ParseEntry(string name, JsonElement e, string source)
        {
            if (name.Length == 0) throw Bad(source, "has a tensor with an empty name");
            if (e.ValueKind != JsonValueKind.Object)
                throw Bad(source, $"tensor '{name}': header entry is a {e.ValueKind}, not an object");
            string? dtype = null;
            int[]? shape = null;
            long[]? offsets = null;
            foreach (JsonProperty p in e.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "dtype":
                        if (dtype != null) throw Bad(source, $"tensor '{name}': 'dtype' appears twice");
                        if (p.Value.ValueKind != JsonValueKind.String) throw Bad(source, $"tensor '{name}': 'dtype' is a {p.Value.ValueKind}, not a string");
                        dtype = p.Value.GetString()!;
                        break;
                    case "shape":
                        if (shape != null) throw Bad(source, $"tensor '{name}': 'shape' appears twice");
                        shape = IntegerArray(p.Value, name, "shape", source, int.MaxValue).Select(v => (int)v).ToArray();
                        break;
                    case "data_offsets":
                        if (offsets != null) throw Bad(source, $"tensor '{name}': 'data_offsets' appears twice");
                        offsets = IntegerArray(p.Value, name, "data_offsets", source, long.MaxValue);
                        break;
                    default:
                        throw Bad(source, $"tensor '{name}': unexpected header field '{p.Name}' (expected dtype, shape, data_offsets)");
                }
            }
            if (dtype is null) throw Bad(source, $"tensor '{name}': header entry has no 'dtype'");
            if (shape is null) throw Bad(source, $"tensor '{name}': header entry has no 'shape'");
            if (offsets is null) throw Bad(source, $"tensor '{name}': header entry has no 'data_offsets'");
            if (dtype != F32)
                throw Bad(source, $"tensor '{name}' has dtype {dtype}; CnnGen weight files hold {F32}");
            if (offsets.Length != 2)
                throw Bad(source, $"tensor '{name}': 'data_offsets' has {offsets.Length} values, expected [begin, end]");
            long begin = offsets[0], end = offsets[1];
            if (end < begin)
                throw Bad(source, $"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");
            long count = ElementCount(shape) ?? throw Bad(source, $"tensor '{name}': shape [{string.Join(", ", shape)}] has too many elements");
            if (count > (long)Array.MaxLength || end - begin != count * sizeof(float))
                throw Bad(source, $"tensor '{name}': shape [{string.Join(", ", shape)}] needs {count} x 4 = {count * 4} bytes but data_offsets [{begin}, {end}] span {end - begin}");
            return new Entry(name, shape, begin, end);
        }

        private static long[] IntegerArray(JsonElement e, string tensor, string field, string source, long max)
        {
            if (e.ValueKind != JsonValueKind.Array)
                throw Bad(source, $"tensor '{tensor}': '{field}' is a {e.ValueKind}, not an array of integers");
            var values = new long[e.GetArrayLength()];
            int i = 0;
            foreach (JsonElement v in e.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x) || x < 0 || x > max)
                    throw Bad(source, $"tensor '{tensor}': '{field}' holds {v.GetRawText()}, not an integer in [0, {max}]");
                values[i++] = x;
            }
            return values;
        }

        /// <summary>Requires the tensors to tile the data exactly: sorted by offset they start at 0, each begins where
        /// the previous one ends, and the last ends at the end of the file. Sorts <paramref name="entries"/> by offset.</summary>
        private static void CheckLayout(List<Entry> entries, long dataLength, string source)
        {
            entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long expected = 0;
            Entry? previous = null;
            foreach (Entry e in entries)
            {
                if (e.End > dataLength)
                    throw Bad(source, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] reach past the {dataLength} data bytes in the file (truncated?)");
                if (e.Begin < expected)
                    throw Bad(source, $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
                if (e.Begin > expected)
                    throw Bad(source, previous is null
                        ? $"tensor '{e.Name}': data starts at {e.Begin}, leaving bytes [0, {e.Begin}) unused (offsets must be contiguous from 0)"
                        : $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] leave a gap after tensor '{previous.Name}' [{previous.Begin}, {previous.End}] (offsets must be contiguous)");
                expected = e.End;
                previous = e;
            }
            if (expected != dataLength)
                throw Bad(source, $"has {dataLength - expected} trailing bytes after the last tensor's data (data is {expected} bytes, file holds {dataLength})");
        }

        /// <summary>Product of the dimensions, or null when one is negative or the product overflows.</summary>
        internal static long? ElementCount(IReadOnlyList<int> shape)
        {
            long count = 1;
            foreach (int d in shape)
            {
                if (d < 0) return null;
                try { count = checked(count * d); }
                catch (OverflowException) { return null; }
            }
            return count;
        }

        internal static InvalidDataException Bad(string source, string problem)
        {
            // "File 'w.safetensors' has ..." / "File 'w.safetensors': tensor 'x' ..."
            string sep = problem.StartsWith("tensor ", StringComparison.Ordinal) ? ": " : " ";
            return new InvalidDataException($"Weight file '{source}'{sep}{problem}.");
        }
    }
}
