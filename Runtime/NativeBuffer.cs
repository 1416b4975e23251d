// Aligned native memory: every parameter, activation, gradient and workspace of a network lives in a few of
// these, allocated once at construction, so training steps never touch the managed heap.
// On Linux a buffer of 2 MiB or more starts on a 2 MiB boundary and asks for transparent huge pages (madvise; THP's
// default "madvise" mode gives them only on request). A network's activations, gradients and workspaces run to tens or
// hundreds of MB, far beyond what the TLB covers in 4 KiB pages; with 2 MiB pages the L2 sets a buffer's lines map to
// also follow its virtual offsets, as the memory planner's odd strides between Winograd matrices assume. Measured
// (bench/RESULTS.md, stop 24): 1-thread conv forward + backward faster in 11 of 12 alternations, by 0.5-8%.
// CNNGEN_HUGE_PAGES=0 turns it off.
using System;
using System.Runtime.InteropServices;

namespace CnnGen
{
    /// <summary>A zero-initialised block of 64-byte-aligned native floats (2 MiB-aligned, on huge pages where Linux gives
    /// them, from <see cref="HugePageBytes"/> up), freed on <see cref="Dispose"/>.</summary>
    public sealed unsafe class NativeBuffer : IDisposable
    {
        public const int Alignment = 64;

        /// <summary>Buffers of at least this many bytes start on a boundary of it and ask Linux for huge pages.</summary>
        public const int HugePageBytes = 2 << 20;
        private const int MadvHugePage = 14; // <sys/mman.h> MADV_HUGEPAGE
        private static readonly bool s_hugePages = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("CNNGEN_HUGE_PAGES") != "0";

        [DllImport("libc", EntryPoint = "madvise")]
        private static extern int Madvise(void* address, nuint length, int advice);
        private float* _pointer;

        [ThreadStatic] private static long t_allocatedBytes;

        /// <summary>Bytes of native memory allocated by NativeBuffers on the calling thread since it started (like
        /// <see cref="GC.GetAllocatedBytesForCurrentThread"/>: cumulative, frees not subtracted). A network allocates all
        /// of its buffers in its constructor, so the difference around a constructor is what the network allocated.</summary>
        public static long AllocatedBytesForCurrentThread => t_allocatedBytes;

        public NativeBuffer(long length)
        {
            if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "A buffer length cannot be negative.");
            Length = length;
            nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
            bool huge = s_hugePages && bytes >= HugePageBytes;
            _pointer = (float*)NativeMemory.AlignedAlloc(bytes, huge ? (nuint)HugePageBytes : Alignment);
            if (_pointer == null) throw new OutOfMemoryException($"Could not allocate {bytes} bytes of aligned native memory.");
            // before the first touch (the Clear below), so the page faults take huge pages; only whole 2 MiB pages inside
            // the buffer become huge, so the resident size stays the buffer's. A refusal (THP "never") changes nothing.
            if (huge) _ = Madvise(_pointer, bytes, MadvHugePage);
            NativeMemory.Clear(_pointer, bytes);
            t_allocatedBytes += (long)bytes;
            if (length > 0) GC.AddMemoryPressure((long)bytes);
        }

        /// <summary>Number of floats.</summary>
        public long Length { get; }

        /// <summary>Counts the times a <see cref="Parameter"/> handed out writable access to this memory (its
        /// <see cref="Parameter.Value"/> or <see cref="Parameter.Values"/>): a network compares it to decide whether weights
        /// derived from its parameters (folded BatchNorm, Winograd transforms) must be recomputed.</summary>
        public long WriteVersion => _writeVersion;
        private long _writeVersion;
        internal void Touch() => _writeVersion++;

        public float* Pointer
        {
            get
            {
                if (_pointer == null) throw new ObjectDisposedException(nameof(NativeBuffer), "The buffer (and the network that owned it) has been disposed.");
                return _pointer;
            }
        }

        public bool IsDisposed => _pointer == null;

        /// <summary>A reference to the first float, for generated kernels that index with <c>Unsafe.Add</c>
        /// (so user projects need no <c>AllowUnsafeBlocks</c>).</summary>
        public ref float Reference => ref *Pointer;

        /// <summary>The floats from <paramref name="offset"/>, <paramref name="length"/> long.</summary>
        public Span<float> AsSpan(long offset, long length)
        {
            if (offset < 0 || length < 0 || offset + length > Length)
                throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) is outside the buffer of {Length} floats.");
            return new Span<float>(Pointer + offset, checked((int)length));
        }

        public void Clear() => NativeMemory.Clear(Pointer, (nuint)Length * sizeof(float));

        public void Dispose()
        {
            if (_pointer == null) return;
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
            if (Length > 0) GC.RemoveMemoryPressure(Math.Max(1, Length) * sizeof(float));
            GC.SuppressFinalize(this);
        }

        ~NativeBuffer()
        {
            if (_pointer != null) NativeMemory.AlignedFree(_pointer);
        }
    }
}
