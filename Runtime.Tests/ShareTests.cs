// GraphOps.Share: the element split of an inference team's elementwise layers (ReLU, residual Add).
using System;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    public class ShareTests
    {
        [Fact]
        public void SharesAreContiguousDisjointLineAlignedAndCoverEveryElement()
        {
            for (int parts = 1; parts <= 5; parts++)
                for (int length = 0; length <= 300; length++)
                {
                    int next = 0;
                    for (int part = 0; part < parts; part++)
                    {
                        (int start, int count) = GraphOps.Share(length, part, parts);
                        Assert.True(count >= 0, $"length {length}, part {part}/{parts}: negative count {count}");
                        if (count == 0) continue;
                        Assert.Equal(next, start); // follows the previous share without a gap or an overlap
                        Assert.Equal(0, start % 16); // whole 64-byte lines: workers never write the same cache line
                        next = start + count;
                    }
                    Assert.Equal(length, next);
                }
        }

        [Fact]
        public void TheTeamAddMatchesTheWholeAdd()
        {
            var rng = new Random(3);
            float[] a = new float[1001], b = new float[1001];
            for (int i = 0; i < a.Length; i++) { a[i] = (float)rng.NextDouble(); b[i] = (float)rng.NextDouble(); }
            var whole = new float[a.Length];
            GraphOps.Add(a, b, whole);
            var team = new float[a.Length];
            for (int part = 0; part < 3; part++) GraphOps.Add(a, b, team, part, 3);
            Assert.Equal(whole, team);
        }
    }
}
