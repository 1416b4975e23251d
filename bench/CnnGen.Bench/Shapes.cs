// The conv shapes of the speed issue, their FLOPs and a factory for the matching single-conv network.
using System;
using System.Collections.Generic;
using System.Linq;

namespace CnnGen.Bench
{
    public sealed class ConvShape
    {
        public ConvShape(int n, int cin, int h, int w, int cout, int k, int s, int p, Func<int, int, INetwork> create)
        {
            N = n; Cin = cin; H = h; W = w; Cout = cout; K = k; S = s; P = p; _create = create;
        }

        private readonly Func<int, int, INetwork> _create;
        public int N { get; }
        public int Cin { get; }
        public int H { get; }
        public int W { get; }
        public int Cout { get; }
        public int K { get; }
        public int S { get; }
        public int P { get; }
        public int OH => (H - K + 2 * P) / S + 1;
        public int OW => (W - K + 2 * P) / S + 1;

        /// <summary>One GEMM pass: 2 * N * Cout * OH * OW * Cin * k * k (forward, backward-data and backward-weights each).</summary>
        public double PassFlops => 2.0 * N * Cout * OH * OW * Cin * K * K;

        /// <summary>A network with this single conv layer, planned for batch <see cref="N"/>.</summary>
        public INetwork Create(int threads) => _create(N, threads);

        /// <summary>The same layer on another number of images (`loop ... --batch N`).</summary>
        public ConvShape WithBatch(int n) => new(n, Cin, H, W, Cout, K, S, P, _create);

        /// <summary>Stable key for compare lines, e.g. 16x64x56x56-64k3s1p1.</summary>
        public string Key => $"{N}x{Cin}x{H}x{W}-{Cout}k{K}s{S}p{P}";
        public override string ToString() => Key;

        public static readonly IReadOnlyList<ConvShape> All = new[]
        {
            new ConvShape(64, 36, 14, 14, 72, 3, 1, 1, (b, t) => new Conv36x14To72(b, threads: t)),
            new ConvShape(1, 64, 56, 56, 64, 3, 1, 1, (b, t) => new Conv64x56To64(b, threads: t)),
            new ConvShape(16, 64, 56, 56, 64, 3, 1, 1, (b, t) => new Conv64x56To64(b, threads: t)),
            new ConvShape(16, 128, 28, 28, 128, 3, 1, 1, (b, t) => new Conv128x28To128(b, threads: t)),
            new ConvShape(16, 256, 14, 14, 256, 3, 1, 1, (b, t) => new Conv256x14To256(b, threads: t)),
            new ConvShape(16, 3, 224, 224, 64, 7, 2, 3, (b, t) => new Conv3x224To64(b, threads: t)),
            new ConvShape(16, 256, 56, 56, 64, 1, 1, 0, (b, t) => new Conv256x56To64(b, threads: t)),
        };

        /// <summary>ResNet-18's conv stages at batch 1 (stem, then one 3x3 conv of each stage): the inference-team cases.</summary>
        public static readonly IReadOnlyList<ConvShape> BatchOne = new[]
        {
            new ConvShape(1, 3, 224, 224, 64, 7, 2, 3, (b, t) => new Conv3x224To64(b, threads: t)),
            new ConvShape(1, 64, 56, 56, 64, 3, 1, 1, (b, t) => new Conv64x56To64(b, threads: t)),
            new ConvShape(1, 128, 28, 28, 128, 3, 1, 1, (b, t) => new Conv128x28To128(b, threads: t)),
            new ConvShape(1, 256, 14, 14, 256, 3, 1, 1, (b, t) => new Conv256x14To256(b, threads: t)),
            new ConvShape(1, 512, 7, 7, 512, 3, 1, 1, (b, t) => new Conv512x7To512(b, threads: t)),
        };

        /// <summary>Extra keys for the loop mode: ResNet-18's stride-2 3x3 convs at batch 1.</summary>
        public static readonly IReadOnlyList<ConvShape> StrideTwo = new[]
        {
            new ConvShape(1, 64, 56, 56, 128, 3, 2, 1, (b, t) => new Conv64x56To128S2(b, threads: t)),
            new ConvShape(1, 128, 28, 28, 256, 3, 2, 1, (b, t) => new Conv128x28To256S2(b, threads: t)),
            new ConvShape(1, 256, 14, 14, 512, 3, 2, 1, (b, t) => new Conv256x14To512S2(b, threads: t)),
        };

        /// <summary>Extra keys for the loop mode: a worker's slice of ResNet-18's batch-8 training step (4 images).</summary>
        public static readonly IReadOnlyList<ConvShape> Slices = new[]
        {
            new ConvShape(4, 256, 14, 14, 256, 3, 1, 1, (b, t) => new Conv256x14To256(b, threads: t)),
            new ConvShape(4, 512, 7, 7, 512, 3, 1, 1, (b, t) => new Conv512x7To512(b, threads: t)),
        };

        /// <summary>Every key the loop mode accepts (besides <c>seed</c>).</summary>
        public static IEnumerable<ConvShape> LoopShapes => All.Concat(BatchOne).Concat(StrideTwo).Concat(Slices);

        /// <summary>--quick: the seed net's layer, one 3x3 ResNet stage and the 1x1.</summary>
        public static bool Quick { get; set; }

        public static IEnumerable<ConvShape> Selected =>
            Quick ? All.Where(s => s.Key is "64x36x14x14-72k3s1p1" or "16x128x28x28-128k3s1p1" or "16x256x56x56-64k1s1p0") : All;
    }
}
