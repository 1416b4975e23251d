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
    
        [Fact]
        public void AddReluWritesTheSumAndItsReluLikeTheTwoSeparatePassesOnEveryShare()
        {
            var rng = new System.Random(3);
            foreach (int length in new[] { 1, 7, 16, 23, 64, 100, 257 })
                for (int parts = 1; parts <= 3; parts++)
                {
                    var a = new float[length];
                    var b = new float[length];
                    for (int i = 0; i < length; i++) { a[i] = (float)(rng.NextDouble() - 0.5); b[i] = (float)(rng.NextDouble() - 0.5); }
                    a[0] = float.NaN; // propagates to the sum; the ReLU of NaN as MathF.Max and Vector.Max give it
                    var sum = new float[length];
                    var relu = new float[length];
                    for (int part = 0; part < parts; part++) GraphOps.AddRelu(a, b, sum, relu, part, parts);
                    var expectedSum = new float[length];
                    GraphOps.Add(a, b, expectedSum);
                    Assert.Equal(expectedSum, sum);
                    for (int i = 1; i < length; i++) Assert.Equal(System.MathF.Max(expectedSum[i], 0f), relu[i]);
                    if (length < 16) continue;
                    Assert.Contains(relu, v => v > 0f);
                    Assert.Contains(relu, v => v == 0f);
                }
            Assert.Throws<System.ArgumentException>(() => GraphOps.AddRelu(new float[4], new float[4], new float[4], new float[3], 0, 1));
        }
    }
}
