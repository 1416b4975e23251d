// The 2x2 / stride 2 max pool's vector path (4 outputs from the even and odd lanes of two input rows) against a
// direct reference: values, which input wins (the first of equal values in kh-then-kw order, as PyTorch), and the
// backward that routes each output gradient to that winner, on every kernel set and on a team of workers. Inputs come from a few levels, so most windows hold ties.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen;
using Xunit;

namespace CnnGen.Tests.Numerics
{
    // even: 14x22 -> 7x11 (two vector groups of 4 and 3 outputs one by one per row)
    [Network(Channels = 3, Height = 14, Width = 22)]
    [MaxPool2D(2), Flatten]
    public partial class PairPoolEven;

    // odd: 9x13 -> 4x6 (the last input row and column belong to no window and get a zero gradient)
    [Network(Channels = 2, Height = 9, Width = 13)]
    [MaxPool2D(2), Flatten]
    public partial class PairPoolOdd;

    public class MaxPoolPairTests
    {
        private const int Batch = 3;

        public static IEnumerable<object[]> Cases() =>
            from isa in NumericsSupport.SupportedIsas
            from net in new[] { nameof(PairPoolEven), nameof(PairPoolOdd) }
            from threads in new[] { 1, 2 }
            select new object[] { net, isa, threads };

        private static (INetwork Net, int C, int H, int W) Make(string name, Isa isa, int threads) => name switch
        {
            nameof(PairPoolEven) => (new PairPoolEven(Batch, 1, isa, threads), 3, 14, 22),
            _ => (new PairPoolOdd(Batch, 1, isa, threads), 2, 9, 13),
        };

        [Theory]
        [MemberData(nameof(Cases))]
        public void Forward_and_backward_match_the_first_winner_of_each_window(string name, Isa isa, int threads)
        {
            (INetwork net, int C, int H, int W) = Make(name, isa, threads);
            using var _ = net;
            int OH = H / 2, OW = W / 2;
            var rng = new Rng(11);
            var x = new float[Batch * C * H * W];
            for (int i = 0; i < x.Length; i++) x[i] = (int)(rng.NextUInt() % 4) - 1; // -1, 0, 1, 2: ties everywhere
            var y = new float[Batch * C * OH * OW];
            net.Forward(x, y, Batch);

            var dy = NumericsSupport.Gaussian(y.Length, rng);
            var dx = new float[x.Length];
            net.Backward(dy, dx, Batch);

            var expectedDx = new float[x.Length];
            for (int plane = 0; plane < Batch * C; plane++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        int best = plane * H * W + 2 * oh * W + 2 * ow;
                        foreach (int at in new[] { best + 1, best + W, best + W + 1 })
                            if (x[at] > x[best]) best = at;
                        int o = (plane * OH + oh) * OW + ow;
                        Assert.True(x[best] == y[o], $"{name} {isa} t{threads}: y[{o}] = {y[o]}, expected {x[best]}");
                        expectedDx[best] = dy[o];
                    }
            for (int i = 0; i < dx.Length; i++)
                Assert.True(expectedDx[i] == dx[i], $"{name} {isa} t{threads}: dx[{i}] = {dx[i]}, expected {expectedDx[i]}");

            if (threads > 1)
            {
                // one image on two workers: a team splits the planes
                if (net is PairPoolEven e) e.TeamMinimumFlops = 0;
                if (net is PairPoolOdd d) d.TeamMinimumFlops = 0;
                var y1 = new float[C * OH * OW];
                net.Forward(x.AsSpan(0, C * H * W), y1, 1);
                Assert.Equal(2, net is PairPoolEven e2 ? e2.LastCallWorkers : ((PairPoolOdd)net).LastCallWorkers);
                for (int i = 0; i < y1.Length; i++) Assert.True(y[i].Equals(y1[i]), $"team y[{i}] = {y1[i]}, expected {y[i]}");
            }
        }
    }
}
