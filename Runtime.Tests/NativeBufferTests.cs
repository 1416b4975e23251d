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
            if (!OperatingSystem.IsLinux()) return; // /proc/self/smaps is Linux's
            long length = 5 * NativeBuffer.HugePageBytes / sizeof(float) + 1000; // 10 MiB and a bit
            using var b = new NativeBuffer(length); // zeroed: every page touched
            // the resident pages of the mappings that hold the buffer (not the whole process: other tests run meanwhile):
            // the buffer itself (10 MiB + 4 KiB) and at most the allocator's header page, but not the 2 MiB a rounded-up
            // last huge page would add. With THP "always" the kernel itself may back the allocation's slack past the
            // buffer with a huge page (as for any program), so that mode gets that page's room.
            long resident = ResidentKiB((ulong)b.Pointer, (ulong)b.Pointer + (ulong)(length * sizeof(float)));
            bool always = File.Exists(ThpMode) && File.ReadAllText(ThpMode).Contains("[always]", StringComparison.Ordinal);
            Assert.InRange(resident, 10 * 1024 + 4, 10 * 1024 + 4 + 4 + (always ? 2048 : 0));
        }

        private const string ThpMode = "/sys/kernel/mm/transparent_hugepage/enabled";

        /// <summary>KiB resident in the mappings of /proc/self/smaps that overlap [begin, end).</summary>
        private static long ResidentKiB(ulong begin, ulong end)
        {
            long kib = 0;
            bool inside = false;
            foreach (string line in File.ReadLines("/proc/self/smaps"))
            {
                int dash = line.IndexOf('-');
                int space = line.IndexOf(' ');
                if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), System.Globalization.NumberStyles.HexNumber, null, out ulong start)
                    && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), System.Globalization.NumberStyles.HexNumber, null, out ulong stop))
                    inside = start < end && stop > begin; // a mapping's header line: "start-end perms offset ..."
                else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
                    kib += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            }
            return kib;
        }
    }
}
