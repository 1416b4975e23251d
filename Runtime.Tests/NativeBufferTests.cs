using System;
using System.IO;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    public unsafe class NativeBufferTests
    {
        [Fact]
        public void SmallBuffersAre64ByteAlignedAndZeroed()
        {
            using var b = new NativeBuffer(1000);
            Assert.Equal(0, (long)b.Pointer % NativeBuffer.Alignment);
            Assert.All(b.AsSpan(0, 1000).ToArray(), v => Assert.Equal(0f, v));
        }

        [Fact]
        public void LargeBuffersStartOnAHugePageBoundaryOnLinuxAndCountOnlyTheirOwnBytes()
        {
            long length = 3 * NativeBuffer.HugePageBytes / sizeof(float) + 17; // 6 MiB + 68 bytes: a partial last page
            long before = NativeBuffer.AllocatedBytesForCurrentThread;
            using var b = new NativeBuffer(length);
            Assert.Equal(length * sizeof(float), NativeBuffer.AllocatedBytesForCurrentThread - before);
            long alignment = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("CNNGEN_HUGE_PAGES") != "0"
                ? NativeBuffer.HugePageBytes : NativeBuffer.Alignment;
            Assert.Equal(0, (long)b.Pointer % alignment);
            Span<float> all = b.AsSpan(0, length);
            Assert.True(all.IndexOfAnyExcept(0f) < 0, "a new buffer is zeroed");
            all[^1] = 1; // the whole length is writable
            Assert.Equal(1f, all[^1]);
        }

        [Fact]
        public void HugePagesDoNotGrowTheResidentSetBeyondTheBuffer()
        {
            if (!OperatingSystem.IsLinux()) return; // /proc/self/status is Linux's
            ResidentKiB(); // warm-up: the JIT's own allocations for these calls land before the baseline
            using (new NativeBuffer(5 * NativeBuffer.HugePageBytes / sizeof(float) + 1000)) { }
            long before = ResidentKiB();
            long length = 5 * NativeBuffer.HugePageBytes / sizeof(float) + 1000; // 10 MiB and a bit
            using var b = new NativeBuffer(length); // zeroed: every page touched
            long grown = ResidentKiB() - before;
            // the buffer itself (10 MiB + 4 KiB) plus slack for the runtime's own allocations meanwhile, but not the 2 MiB a
            // rounded-up last huge page would add. With THP "always" the kernel itself may back the allocation's slack
            // past the buffer with a huge page (as for any program), so that mode gets that page's room.
            bool always = File.Exists(ThpMode) && File.ReadAllText(ThpMode).Contains("[always]", StringComparison.Ordinal);
            Assert.InRange(grown, 10 * 1024, 10 * 1024 + 1024 + (always ? 2048 : 0));
        }

        private const string ThpMode = "/sys/kernel/mm/transparent_hugepage/enabled";

        private static long ResidentKiB()
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            throw new InvalidOperationException("no VmRSS in /proc/self/status");
        }
    }
}
