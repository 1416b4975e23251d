// Dropout.Forward draws its random values in blocks and selects with vectors: it must equal, bit for bit, the
// scalar definition (one Rng.NextUInt per element, in order, keep when the top 24 bits reach rate * 2^24), for
// lengths around the block and vector sizes, and leave the generator exactly where the scalar loop would.
using System;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    public class DropoutTests
    {
        [Fact]
        public void NextUIntsEqualsSuccessiveNextUInt()
        {
            var a = new Rng(99);
            var b = new Rng(99);
            var block = new uint[1000];
            a.NextUInts(block);
            for (int i = 0; i < block.Length; i++) Assert.Equal(b.NextUInt(), block[i]);
            Assert.Equal(b.NextUInt(), a.NextUInt()); // same state afterwards
        }

        [Theory]
        [InlineData(0.0f)]
        [InlineData(0.25f)]
        [InlineData(0.5f)]
        [InlineData(0.9f)]
        public void ForwardMatchesTheScalarDefinition(float rate)
        {
            var data = new Random(5);
            foreach (int length in new[] { 0, 1, 7, 8, 15, 16, 255, 256, 257, 511, 512, 1000, 3001 })
            {
                var x = new float[length];
                for (int i = 0; i < length; i++) x[i] = (float)(data.NextDouble() * 2 - 1);
                var y = new float[length];
                var mask = new float[length];
                var rng = new Rng(1234);
                Dropout.Forward(x, y, mask, rate, rng);

                var reference = new Rng(1234);
                float scale = 1f / (1f - rate);
                uint threshold = (uint)(rate * (1 << 24));
                int kept = 0;
                for (int i = 0; i < length; i++)
                {
                    float m = (reference.NextUInt() >> 8) >= threshold ? scale : 0f;
                    Assert.Equal(m, mask[i]);
                    Assert.Equal(x[i] * m, y[i]);
                    if (m != 0) kept++;
                }
                Assert.Equal(reference.NextUInt(), rng.NextUInt());
                if (length >= 1000) Assert.InRange(kept / (double)length, 1 - rate - 0.05, 1 - rate + 0.05);

                var dy = new float[length];
                for (int i = 0; i < length; i++) dy[i] = (float)data.NextDouble();
                var dx = new float[length];
                Dropout.Backward(dy, mask, dx);
                for (int i = 0; i < length; i++) Assert.Equal(dy[i] * mask[i], dx[i]);
            }
        }
    }
}
