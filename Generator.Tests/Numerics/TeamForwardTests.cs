// A forward of fewer images than workers (inference or training) runs as a team: every worker computes its own column strips (output pixels)
// or row tiles (output channels) of every conv, the light layers run on worker 0, barriers in between
// (NetworkEmitter.ForwardLayers, KernelEmitter.TeamSplitsRows). Either split leaves each output's sum in the same order,
// so the team's output must equal one worker's bit for bit, for every kernel set, blocked and unblocked convs, folded
// BatchNorm, graphs and team sizes that leave some workers idle.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen;
using Xunit;

namespace CnnGen.Tests.Numerics
{
    // Pixel-blocked convs (36x36 maps) inside residual blocks with foldable BatchNorm, a stride-2 projection.
    [Network(Channels = 3, Height = 36, Width = 36)]
    [Conv2D(16, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
    [BasicBlock(16), BasicBlock(24, Stride = 2), GlobalAvgPool, Dense(7)]
    public partial class TfResidual;

    // Late-layer shapes: more output channels than pixels, so the team splits the output channels (ragged 100 = 16 x 6 + 4,
    // which a pair of workers takes as 50 + 50 in tiles of 6 and 5, and 35 per group); a 1x1 grouped conv reads its input
    // directly.
    [Network(Channels = 64, Height = 7, Width = 7)]
    [Conv2D(100, 3, Padding = 1), ReLU, Conv2D(70, 1, Groups = 2), GlobalAvgPool, Dense(5)]
    public partial class TfLate;

    // Eleven pixel blocks (72 column rows x 9216 pixels): a team of two takes whole blocks each, a team of three
    // (11 < 4 x 3) splits the strips of every block.
    [Network(Channels = 8, Height = 96, Width = 96)]
    [Conv2D(8, 3, Padding = 1), ReLU, MaxPool2D(2), GlobalAvgPool, Dense(3)]
    public partial class TfManyBlocks;

    // Winograd convs whose 8 tile rows a pair of workers splits (KernelEmitter.PairSplitsTiles: 64 tiles each): the map's
    // last tile row and column overhang it (30 x 62), so the second worker reads padding rows below the map.
    [Network(Channels = 16, Height = 30, Width = 62)]
    [Conv2D(24, 3, Padding = 1), ReLU, Conv2D(20, 3, Padding = 1, Bias = false), GlobalAvgPool, Dense(5)]
    public partial class TfWinogradTiles;

    public sealed class TeamForwardTests
    {
        private delegate INetwork Create(int maxBatch, Isa isa, int threads);

        // TeamMinimumFlops = 0: these test networks are far below the default threshold, and the team path is the subject.
        private static readonly Dictionary<string, Create> Nets = new()
        {
            [nameof(BcPixelBlocks)] = (b, isa, t) => new BcPixelBlocks(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcStride2)] = (b, isa, t) => new BcStride2(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcPointwise)] = (b, isa, t) => new BcPointwise(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcPointwiseStreamed)] = (b, isa, t) => new BcPointwiseStreamed(b, 1, isa, t) { TeamMinimumFlops = 0 }, // B read in place
            [nameof(BcGroups)] = (b, isa, t) => new BcGroups(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcDeep)] = (b, isa, t) => new BcDeep(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(TfResidual)] = (b, isa, t) => new TfResidual(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(TfLate)] = (b, isa, t) => new TfLate(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(TfManyBlocks)] = (b, isa, t) => new TfManyBlocks(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(TfWinogradTiles)] = (b, isa, t) => new TfWinogradTiles(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(FixtureResNet)] = (b, isa, t) => new FixtureResNet(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(FixtureInception)] = (b, isa, t) => new FixtureInception(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(FixtureDenseNet)] = (b, isa, t) => new FixtureDenseNet(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(GtFoldNet)] = (b, isa, t) => new GtFoldNet(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcPacked7x7)] = (b, isa, t) => new BcPacked7x7(b, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcPackedWinogradWide)] = (b, isa, t) => new BcPackedWinogradWide(b, 1, isa, t) { TeamMinimumFlops = 0 },
        };

        /// <summary>(threads, batch): two workers on one image; three on one (7x7-style maps give a worker no strip); three on two.</summary>
        private static readonly (int Threads, int Batch)[] Teams = { (2, 1), (3, 1), (3, 2) };

        public static IEnumerable<object[]> All() =>
            from name in Nets.Keys
            from isa in NumericsSupport.SupportedIsas
            from team in Teams
            from training in new[] { false, true }
            select new object[] { name, isa, team.Threads, team.Batch, training };

        [Theory]
        [MemberData(nameof(All))]
        public void TeamForwardEqualsOneWorkerBitForBit(string netName, Isa isa, int threads, int batch, bool training)
        {
            Create create = Nets[netName];
            using INetwork one = create(batch, isa, 1);
            using INetwork team = create(batch, isa, threads);
            // training: BatchNorm on the batch's statistics (updating the running ones every round), dropout drawing masks
            one.Training = team.Training = training;
            Assert.Equal(threads, team.Threads); // a pool larger than the batch: the forward runs as a team
            NumericsSupport.Randomize(one, new Rng(21));
            NumericsSupport.Randomize(team, new Rng(21));
            float[] x = NumericsSupport.Gaussian(batch * one.InputLength, new Rng(22));
            var expected = new float[batch * one.OutputLength];
            var got = new float[expected.Length];
            for (int round = 0; round < 3; round++) // the pool's workers are reused: every call must agree
            {
                one.Forward(x, expected, batch);
                Array.Fill(got, float.NaN);
                team.Forward(x, got, batch);
                Assert.Equal(threads, ((dynamic)team).LastCallWorkers); // every worker took part
                for (int i = 0; i < got.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(got[i]),
                        $"round {round}, output {i}: {got[i]} from {threads} workers, {expected[i]} from one");
                Assert.NotEqual(0f, expected.Max() - expected.Min()); // not a constant output
            }
            // Every layer's output too (LayerOutput reads the activations the team wrote); auxiliary heads run only in TrainStep.
            for (int layer = 0; layer < one.LayerInfos.Count; layer++)
                if (!one.LayerInfos[layer].Name.StartsWith("aux", StringComparison.Ordinal))
                for (int image = 0; image < batch; image++)
                    Assert.True(one.LayerOutput(layer, image).SequenceEqual(team.LayerOutput(layer, image)), $"layer {layer} ({one.LayerInfos[layer].Name}), image {image}");
        }

        /// <summary>Nets whose team runs Winograd convs, on 2 and 3 workers, with the input transform shared and not (a pair on
        /// TfWinogradTiles splits the tile rows whatever the mode).</summary>
        public static IEnumerable<object[]> WinogradTeams() =>
            from name in new[] { nameof(BcPixelBlocks), nameof(TfResidual), nameof(TfWinogradTiles) }
            from isa in NumericsSupport.SupportedIsas
            from threads in new[] { 2, 3 }
            from share in new[] { true, false }
            select new object[] { name, isa, threads, share };

        [Theory]
        [MemberData(nameof(WinogradTeams))]
        public void WinogradTeamEqualsOneWorkerWithSharedOrOwnTransforms(string netName, Isa isa, int threads, bool share)
        {
            // TeamProbe picks the mode at each job from the cores' measured round trips; both are forced
            // here. Other tests running meanwhile take the forced mode too, which computes the same values.
            TeamProbe.Force = share;
            try { TeamForwardEqualsOneWorkerBitForBit(netName, isa, threads, 1, training: false); }
            finally { TeamProbe.Force = null; }
        }

        [Theory]
        [MemberData(nameof(Isas))]
        public void TrainingAfterTeamInferenceIsUnaffected(Isa isa)
        {
            // A team forward, then a training step on the same instance: the step must equal a fresh one-worker step.
            const int batch = 1;
            using var one = new TfResidual(batch, 1, isa, threads: 1);
            using var team = new TfResidual(batch, 1, isa, threads: 2) { TeamMinimumFlops = 0 };
            Assert.Equal(2, team.Threads);
            NumericsSupport.Randomize(one, new Rng(31));
            NumericsSupport.Randomize(team, new Rng(31));
            float[] x = NumericsSupport.Gaussian(batch * TfResidual.InputSize, new Rng(32));
            var y = new float[batch * TfResidual.OutputSize];
            team.Forward(x, y, batch);
            float l1 = one.TrainStep(x, new[] { 3 }, new Sgd(0.05f));
            float l2 = team.TrainStep(x, new[] { 3 }, new Sgd(0.05f));
            Assert.Equal(l1, l2);
            foreach (var (a, b) in one.Parameters.Zip(team.Parameters))
                Assert.True(a.Value.SequenceEqual(b.Value), a.Name);
        }

        [Fact]
        public void SmallNetworksRunBatchOneOnOneWorkerUnlessAsked()
        {
            using var net = new TfLate(2, 1, null, threads: 2);
            Assert.True(TfLate.FlopsPerImage < net.TeamMinimumFlops); // below the default threshold
            float[] x = NumericsSupport.Gaussian(2 * TfLate.InputSize, new Rng(41));
            var y = new float[2 * TfLate.OutputSize];
            float[] x1 = x[..TfLate.InputSize], y1 = new float[TfLate.OutputSize];
            net.Forward(x1, y1, 1);
            Assert.Equal(1, net.LastCallWorkers);
            net.Forward(x, y, 2); // a full batch splits as usual
            Assert.Equal(2, net.LastCallWorkers);
            net.TeamMinimumFlops = TfLate.FlopsPerImage; // exactly at the threshold: a team
            net.Forward(x1, y1, 1);
            Assert.Equal(2, net.LastCallWorkers);
            net.Training = true; // a training forward runs as a team too
            net.Forward(x1, y1, 1);
            Assert.Equal(2, net.LastCallWorkers);
        }

        [Fact]
        public void APairOfWorkersTakesHalfTheRowsEachWhenWholeTilesWouldNot()
        {
            // GemmEmitter.PairRows: the rows of each worker of a pair (RowShare), or null when whole tiles split evenly
            Assert.Equal(32, CnnGen.Generator.Emit.GemmEmitter.PairRows(64, 6));  // tiles of 6 would give 30 + 34
            Assert.Equal(50, CnnGen.Generator.Emit.GemmEmitter.PairRows(100, 6)); // 48 + 52 (TfLate)
            Assert.Equal(36, CnnGen.Generator.Emit.GemmEmitter.PairRows(72, 8));  // 32 + 40 in AVX-512's tiles of 8
            Assert.Null(CnnGen.Generator.Emit.GemmEmitter.PairRows(96, 6));       // 48 + 48 already
            Assert.Null(CnnGen.Generator.Emit.GemmEmitter.PairRows(64, 8));
            Assert.Null(CnnGen.Generator.Emit.GemmEmitter.PairRows(35, 6));       // odd: whole tiles
            Assert.Null(CnnGen.Generator.Emit.GemmEmitter.PairRows(6, 6));        // 3 each would be tiles too short to pay
        }

        [Fact]
        public void APairSplitsTheTileRowsOfLargeWinogradMapsOnly()
        {
            // KernelEmitter.PairSplitsTiles(tile rows, tiles per row): an even number of tile rows and 64+ tiles a worker
            Assert.True(CnnGen.Generator.Emit.KernelEmitter.PairSplitsTiles(14, 14));  // ResNet's 56 x 56: 98 tiles each
            Assert.True(CnnGen.Generator.Emit.KernelEmitter.PairSplitsTiles(8, 16));   // TfWinogradTiles: 64 each
            Assert.False(CnnGen.Generator.Emit.KernelEmitter.PairSplitsTiles(8, 15));  // 60 each: too narrow a GEMM
            Assert.False(CnnGen.Generator.Emit.KernelEmitter.PairSplitsTiles(7, 7));   // 28 x 28: odd
            Assert.False(CnnGen.Generator.Emit.KernelEmitter.PairSplitsTiles(4, 4));   // 14 x 14
            Assert.False(CnnGen.Generator.Emit.KernelEmitter.PairSplitsTiles(9, 16));  // odd
        }

        public static IEnumerable<object[]> Isas() => NumericsSupport.SupportedIsas.Select(isa => new object[] { isa });
    }
}
