// Software prefetch for generated kernels, which are compiled into the user's project and so cannot take pointers
// (that would need AllowUnsafeBlocks there). Inlined across the assembly boundary; a no-op without SSE.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace CnnGen
{
    public static class CacheHints
    {
        /// <summary>Asks for the cache line holding <paramref name="value"/> in L2 (prefetcht1). Never faults.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void PrefetchL2(ref float value)
        {
            if (Sse.IsSupported) Sse.Prefetch1(Unsafe.AsPointer(ref value));
        }
    }
}
