// Which generated kernel set a network runs: chosen once, at construction.
using System;
using System.Runtime.Intrinsics;

namespace CnnGen
{
    /// <summary>Instruction sets the generator emits kernels for.</summary>
    public enum Isa
    {
        /// <summary>Vector128 (SSE / NEON), no FMA assumed.</summary>
        Portable = 0,
        /// <summary>Vector256 with FMA.</summary>
        Avx2 = 1,
        /// <summary>Vector512.</summary>
        Avx512 = 2,
    }

    public static class IsaSupport
    {
        /// <summary>The widest kernel set this process can run fast. Honours DOTNET_EnableAVX512=0 / DOTNET_EnableAVX2=0.</summary>
        public static Isa Best { get; } =
            Vector512.IsHardwareAccelerated ? Isa.Avx512 :
            Vector256.IsHardwareAccelerated ? Isa.Avx2 : Isa.Portable;

        /// <summary>
        /// Lets a process run kernel sets wider than the hardware accelerates: .NET then emulates the wide vectors with
        /// narrower ones, which is slow but computes the same values. Tests use it to check every generated kernel set
        /// on any machine.
        /// </summary>
        public static bool AllowEmulation { get; set; }

        /// <summary>Resolves a requested kernel set: null means <see cref="Best"/>; wider than the hardware is refused
        /// unless <see cref="AllowEmulation"/> is set.</summary>
        public static Isa Resolve(Isa? requested)
        {
            if (requested is null) return Best;
            if (requested.Value > Best && !AllowEmulation)
                throw new PlatformNotSupportedException(
                    $"Kernel set {requested.Value} was requested but this process only accelerates up to {Best}; pass null or {Best}.");
            return requested.Value;
        }
    }
}
