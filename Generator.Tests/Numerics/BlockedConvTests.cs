// Convolutions large enough for the blocked code paths of the GEMM and im2col (KernelEmitter.PixelBlock,
// GemmEmitter's depth and row blocks, multi-strip packing, ragged strips and tile heights), checked against a direct
// double-precision convolution for forward, weight, bias and input gradients, on every kernel set. The gradient
// checks use small maps, which never reach these paths.
//
// Tolerance: |got - reference| <= 1e-4 * sum(|terms|) + 1e-6, the float32 rounding of a sum of that many products
// with room to spare (a wrong index gives errors of the order of the value itself).
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen;
using CnnGen.Generator.Model;
using CnnGen.Generator.Plan;
using Xunit;

namespace CnnGen.Tests.Numerics
{
    // 3x3 on 16x33x31: im2col in pixel blocks (ragged last block and strip), 20 rows = 3 tiles of 6 + 2.
    [Network(Channels = 16, Height = 33, Width = 31)]
    [Conv2D(20, 3, Padding = 1)]
    public partial class BcPixelBlocks;

    // 5x5 stride 2 on 6x70x70: the vectorised stride-2 im2col, blocked.
    [Network(Channels = 6, Height = 70, Width = 70)]
    [Conv2D(8, 5, Stride = 2, Padding = 2)]
    public partial class BcStride2;

    // 1x1 on 96x40x40: the input is copied in pixel blocks for the forward and the weight gradient, dx is written directly.
    [Network(Channels = 96, Height = 40, Width = 40)]
    [Conv2D(12, 1, Bias = false)]
    public partial class BcPointwise;

    // groups 2 on 16x36x36, blocked.
    [Network(Channels = 16, Height = 36, Width = 36)]
    [Conv2D(8, 3, Padding = 1, Groups = 2)]
    public partial class BcGroups;

    // 48 -> 160 channels on 6x6: two depth blocks in the forward (432 = 2 x 216), row blocks (MC) in backward-data.
    [Network(Channels = 48, Height = 6, Width = 6)]
    [Conv2D(160, 3, Padding = 1)]
    public partial class BcDeep;

    // Image groups (MemoryPlanner.ImageGroup): the seed net's 72x7x7 -> 144x5x5 runs 5 images per GEMM; a batch of 7 is
    // one group and two images on their own.
    [Network(Channels = 72, Height = 7, Width = 7)]
    [Conv2D(144, 3)]
    public partial class BcImageGroups;

    // ResNet's 7x7 stage class: stride 2 onto 7x7 (49 columns, 5 images per GEMM), no bias; a batch of 6.
    [Network(Channels = 24, Height = 14, Width = 14)]
    [Conv2D(40, 3, Stride = 2, Padding = 1, Bias = false)]
    public partial class BcImageGroupsStride2;

    // Winograd F(4x4, 3x3) (MemoryPlanner.IsWinograd): 13 x 13 is the smallest map (4 tiles per row, the last tile
    // ragged: 13 = 3 x 4 + 1), with bias; a batch of 5.
    [Network(Channels = 16, Height = 13, Width = 13)]
    [Conv2D(24, 3, Padding = 1)]
    public partial class BcWinogradSmall;

    // Winograd on a wide ragged map without bias: 15 x 8 tiles (the last group of each row overlaps), the 16-column vector
    // path of the phase split and its scalar tail (57 = 3 + 3 x 16 + 6), fewer output than input channels (dx: 40 rows).
    [Network(Channels = 40, Height = 30, Width = 57)]
    [Conv2D(16, 3, Padding = 1, Bias = false)]
    public partial class BcWinogradWide;

    // The weight gradient as dW^T = col * dy^T (MemoryPlanner.IsWeightGradientTransposed): a 7x7 stride-2 stem in three
    // pixel blocks whose pieces cross output rows (also the vectorised stride-2 col2im with an odd kernel), and a
    // pointwise conv reading its input directly.
    [Network(Channels = 3, Height = 64, Width = 62)]
    [Conv2D(32, 7, Stride = 2, Padding = 3)]
    public partial class BcStem;

    [Network(Channels = 96, Height = 20, Width = 21)]
    [Conv2D(32, 1)]
    public partial class BcPointwiseTransposed;

    // A 1x1 conv whose input image (128 x 48 x 45: 1.1 MB) outgrows L2: the forward prefetches B's next block (the input
    // rows, GemmEmitter's PrefetchB) and the transposed weight gradient the next tile's rows of A (the input again,
    // PrefetchA); 2160 pixels end in a half strip. On AVX2 the forward packs B (its in-place strips missed L1), and the
    // input gradient asks for its next tile of dx ahead (PrefetchC).
    [Network(Channels = 128, Height = 48, Width = 45)]
    [Conv2D(32, 1)]
    public partial class BcPointwiseStreamed;

    // The weight gradient in one block of the whole image (MemoryPlanner.WholeImageWeightGradient) while the forward and
    // the input gradient use two pixel blocks of 112.
    [Network(Channels = 64, Height = 16, Width = 16)]
    [Conv2D(200, 3)]
    public partial class BcWholeImageWeightGradient;

    // GEMM rests as dot products (GemmEmitter.SplitRest): a 7 x 7 map's 49 columns are 32 + 16 + 1 on AVX-512 and 3 x 16 + 1
    // on AVX2; the weight gradient's 180 columns (20 x 3 x 3) end in 16 + 4 on AVX-512; 13 output channels leave single
    // rows after the blocks of four; a depth of 180 (49 in the weight gradient) ends in scalar steps. Batch 1: no image groups.
    [Network(Channels = 20, Height = 7, Width = 7)]
    [Conv2D(13, 3, Padding = 1)]
    public partial class BcDotColumns;

    // The same in Winograd's GEMMs: a 26 x 26 map has 7 x 7 = 49 tiles (the products), and 18 input channels are the
    // columns of the transformed weights' gradient (16 + 2 on both kernel sets).
    [Network(Channels = 18, Height = 26, Width = 26)]
    [Conv2D(20, 3, Padding = 1)]
    public partial class BcWinogradDotColumns;

    // Winograd whose transformed weights (36 x 96 x 96 floats, 1.3 MB) exceed L2: the products prefetch the next tile's
    // rows of U (BroadcastGemm.PrefetchA), forward and input gradient.
    [Network(Channels = 96, Height = 13, Width = 13)]
    [Conv2D(96, 3, Padding = 1)]
    public partial class BcWinogradPrefetch;

    // A 16-tile map with 128 channels on both sides: the weight gradient runs as Winograd too
    // (MemoryPlanner.IsWinogradWeightGradient), in two images; 128 x 16 = 2048 floats per transformed matrix, a power of two
    // that the workspace pads to an odd number of lines (MemoryPlanner.WinogradMatrixStride).
    [Network(Channels = 128, Height = 13, Width = 14)]
    [Conv2D(128, 3, Padding = 1)]
    public partial class BcWinogradWeightGradient16Tiles;

    // The implicit-im2col weight gradient (MemoryPlanner.IsShiftedPlaneWeightGradient), which reads its columns from shifted
    // copies of the input planes: 5 x 5 (copies for 2 and 1 columns to either side), 150 columns (4 strips + a zero-padded
    // 22-column strip: 16 rows through the 8 x 8 transposes, 6 one at a time), a depth of 132 pixels (scalar steps).
    [Network(Channels = 6, Height = 11, Width = 12)]
    [Conv2D(10, 5, Padding = 2)]
    public partial class BcShiftedPlanes5x5;

    // 7 x 7 on a map 7 wide: the copies for 3 columns to the side zero 3 of the 7 columns per row; no bias.
    [Network(Channels = 2, Height = 20, Width = 7)]
    [Conv2D(8, 7, Padding = 3, Bias = false)]
    public partial class BcShiftedPlanes7x7;

    // 3 x 3 with 36 columns: one strip and 4 columns as dot products (AVX-512; AVX2: half-width tiles), rows copied side by side.
    [Network(Channels = 4, Height = 12, Width = 12)]
    [Conv2D(8, 3, Padding = 1)]
    public partial class BcShiftedPlanesDots;

    // The channels-last weight gradient (MemoryPlanner.IsChannelsLastWeightGradient): 20 channels x 3 taps = 60 of a 64-float
    // row, 4 junk lanes per kernel row; 13 output channels (AVX-512 tiles of 8 + 5, AVX2 and SSE 6 + 6 + 1); 132 pixels
    // (the transpose's 4-pixel tail) and 20 channels (its 4-channel tail).
    [Network(Channels = 20, Height = 12, Width = 11)]
    [Conv2D(13, 3, Padding = 1)]
    public partial class BcChannelsLast;

    // 5 x 5: 16 channels x 5 taps = 80 floats a row, 25 AVX-512 vectors = 8 tiles of 3 + a tile of 1; 10 output channels;
    // no bias.
    [Network(Channels = 16, Height = 13, Width = 12)]
    [Conv2D(10, 5, Padding = 2, Bias = false)]
    public partial class BcChannelsLast5x5;

    // Pixel blocks of whole output rows (MemoryPlanner.PixelBlock): a 32-wide output takes 13 rows (416 pixels) per block,
    // the last block 6 rows; im2col and col2im run their row path only.
    [Network(Channels = 3, Height = 64, Width = 64)]
    [Conv2D(16, 7, Stride = 2, Padding = 3)]
    public partial class BcWholeRowBlocks;

    // Packed inference weights (MemoryPlanner.IsPackedForward): C^T = col^T * W^T with the output channels as vectors.
    // ResNet's 7 x 7 stage in small (49 pixels: 7-row tiles), a stride-2 conv onto 7 x 7, and a 3 x 3 map (9 pixel rows:
    // an 8-row tile and a 1-row one).
    [Network(Channels = 64, Height = 7, Width = 7)]
    [Conv2D(128, 3, Padding = 1)]
    public partial class BcPacked7x7;

    [Network(Channels = 32, Height = 14, Width = 14)]
    [Conv2D(128, 3, Stride = 2, Padding = 1, Bias = false)]
    public partial class BcPackedStride2;

    [Network(Channels = 16, Height = 3, Width = 3)]
    [Conv2D(64, 3, Padding = 1)]
    public partial class BcPackedRemainder;

    // Packed convs that are 3x3 stride 1 pad 1 infer as Winograd F(2x2, 3x3) (MemoryPlanner.IsPackedWinograd; BcPacked7x7 and
    // BcPackedRemainder too): 3 x 3 tiles on a 5 x 6 map, rounded up to 4 a row (the last tile row and column hang over the
    // map's bottom edge; a whole tile column is padding), and 2 x 7 tiles on 3 x 14, two groups of four a row.
    [Network(Channels = 24, Height = 5, Width = 6)]
    [Conv2D(64, 3, Padding = 1)]
    public partial class BcPackedWinogradRagged;

    [Network(Channels = 8, Height = 3, Width = 14)]
    [Conv2D(96, 3, Padding = 1, Bias = false)]
    public partial class BcPackedWinogradWide;

    // With a BatchNorm to fold, only the folded inference reads packed weights (the unfolded forward reads them as stored).
    [Network(Channels = 64, Height = 7, Width = 7)]
    [Conv2D(128, 3, Padding = 1, Bias = false), BatchNorm, ReLU, Conv2D(96, 3, Stride = 2, Padding = 1, Bias = false), BatchNorm]
    public partial class BcPackedFolded;

    public sealed class BlockedConvTests
    {
        private sealed record Case(Func<Isa, INetwork> Create, int Cin, int H, int W, int Cout, int K, int S, int P, int Groups, bool Bias, int Batch = 2);

        private static readonly Dictionary<string, Case> Cases = new()
        {
            [nameof(BcPixelBlocks)] = new(isa => new BcPixelBlocks(Batch, 1, isa), 16, 33, 31, 20, 3, 1, 1, 1, true),
            [nameof(BcStride2)] = new(isa => new BcStride2(Batch, 1, isa), 6, 70, 70, 8, 5, 2, 2, 1, true),
            [nameof(BcPointwise)] = new(isa => new BcPointwise(Batch, 1, isa), 96, 40, 40, 12, 1, 1, 0, 1, false),
            [nameof(BcGroups)] = new(isa => new BcGroups(Batch, 1, isa), 16, 36, 36, 8, 3, 1, 1, 2, true),
            [nameof(BcDeep)] = new(isa => new BcDeep(Batch, 1, isa), 48, 6, 6, 160, 3, 1, 1, 1, true),
            [nameof(BcImageGroups)] = new(isa => new BcImageGroups(7, 1, isa), 72, 7, 7, 144, 3, 1, 0, 1, true, 7),
            [nameof(BcImageGroupsStride2)] = new(isa => new BcImageGroupsStride2(6, 1, isa), 24, 14, 14, 40, 3, 2, 1, 1, false, 6),
            [nameof(BcWinogradSmall)] = new(isa => new BcWinogradSmall(5, 1, isa), 16, 13, 13, 24, 3, 1, 1, 1, true, 5),
            [nameof(BcWinogradWide)] = new(isa => new BcWinogradWide(Batch, 1, isa), 40, 30, 57, 16, 3, 1, 1, 1, false),
            [nameof(BcStem)] = new(isa => new BcStem(Batch, 1, isa), 3, 64, 62, 32, 7, 2, 3, 1, true),
            [nameof(BcPointwiseTransposed)] = new(isa => new BcPointwiseTransposed(3, 1, isa), 96, 20, 21, 32, 1, 1, 0, 1, true, 3),
            [nameof(BcPointwiseStreamed)] = new(isa => new BcPointwiseStreamed(Batch, 1, isa), 128, 48, 45, 32, 1, 1, 0, 1, true),
            [nameof(BcWholeImageWeightGradient)] = new(isa => new BcWholeImageWeightGradient(Batch, 1, isa), 64, 16, 16, 200, 3, 1, 0, 1, true),
            [nameof(BcDotColumns)] = new(isa => new BcDotColumns(1, 1, isa), 20, 7, 7, 13, 3, 1, 1, 1, true, 1),
            [nameof(BcWinogradDotColumns)] = new(isa => new BcWinogradDotColumns(1, 1, isa), 18, 26, 26, 20, 3, 1, 1, 1, true, 1),
            [nameof(BcWinogradPrefetch)] = new(isa => new BcWinogradPrefetch(1, 1, isa), 96, 13, 13, 96, 3, 1, 1, 1, true, 1),
            [nameof(BcWinogradWeightGradient16Tiles)] = new(isa => new BcWinogradWeightGradient16Tiles(Batch, 1, isa), 128, 13, 14, 128, 3, 1, 1, 1, true),
            // The Winograd weight gradient over chunks of images (MemoryPlanner.WinogradGradientImages: 2 for 16 tiles, 1 for
            // 72): a whole chunk and a partial one; then workers sharing the layer (each its own rows of dU and dW over every
            // worker's images) on uneven slices: 5 images on 2 workers (3 + 2, the second chunk has worker 1's columns empty),
            // 7 on 3 (3 + 3 + 1); 20 output channels on 2 and 3 workers (row shares of 8 and 12, of 8, 8 and 4 on AVX-512).
            [WinogradChunks] = new(isa => new BcWinogradWeightGradient16Tiles(3, 1, isa), 128, 13, 14, 128, 3, 1, 1, 1, true, 3),
            [WinogradTeamOfTwo] = new(isa => new BcWinogradWeightGradient16Tiles(5, 1, isa, threads: 2), 128, 13, 14, 128, 3, 1, 1, 1, true, 5),
            [WinogradTeamOfThree] = new(isa => new BcWinogradWeightGradient16Tiles(7, 1, isa, threads: 3), 128, 13, 14, 128, 3, 1, 1, 1, true, 7),
            // Workers that each keep a dU of their own images (KernelEmitter.IsWinogradGradientPerWorker: dU fits L2) and add
            // G^T dU G to their own gradient buffers: 3 images of the wide map on 2 workers (2 + 1; the Winograd weight gradient
            // on every set: 120 tiles), 7 of the 13 x 13 map on 3 (3 + 3 + 1; Winograd's weight gradient on AVX2 and Vector128).
            [WinogradPerWorkerTeamOfTwo] = new(isa => new BcWinogradWide(3, 1, isa, threads: 2), 40, 30, 57, 16, 3, 1, 1, 1, false, 3),
            [WinogradPerWorkerTeamOfThree] = new(isa => new BcWinogradSmall(7, 1, isa, threads: 3), 16, 13, 13, 24, 3, 1, 1, 1, true, 7),
            [PixelBlocksTeamOfTwo] = new(isa => new BcPixelBlocks(4, 1, isa, threads: 2), 16, 33, 31, 20, 3, 1, 1, 1, true, 4),
            [PixelBlocksTeamOfThree] = new(isa => new BcPixelBlocks(5, 1, isa, threads: 3), 16, 33, 31, 20, 3, 1, 1, 1, true, 5),
            [nameof(BcShiftedPlanes5x5)] = new(isa => new BcShiftedPlanes5x5(3, 1, isa), 6, 11, 12, 10, 5, 1, 2, 1, true, 3),
            [nameof(BcShiftedPlanes7x7)] = new(isa => new BcShiftedPlanes7x7(Batch, 1, isa), 2, 20, 7, 8, 7, 1, 3, 1, false),
            [nameof(BcShiftedPlanesDots)] = new(isa => new BcShiftedPlanesDots(Batch, 1, isa), 4, 12, 12, 8, 3, 1, 1, 1, true),
            [nameof(BcChannelsLast)] = new(isa => new BcChannelsLast(3, 1, isa), 20, 12, 11, 13, 3, 1, 1, 1, true, 3),
            [nameof(BcChannelsLast5x5)] = new(isa => new BcChannelsLast5x5(Batch, 1, isa), 16, 13, 12, 10, 5, 1, 2, 1, false),
            [ChannelsLastTeamOfTwo] = new(isa => new BcChannelsLast(5, 1, isa, threads: 2), 20, 12, 11, 13, 3, 1, 1, 1, true, 5),
            [nameof(BcWholeRowBlocks)] = new(isa => new BcWholeRowBlocks(Batch, 1, isa), 3, 64, 64, 16, 7, 2, 3, 1, true),
            [nameof(BcPacked7x7)] = new(isa => new BcPacked7x7(3, 1, isa), 64, 7, 7, 128, 3, 1, 1, 1, true, 3),
            // 5 images: the training forward (and Winograd off) takes a group of 4 through one GEMM and the fifth alone, the
            // packed inference every image as Winograd F(2x2, 3x3)
            [PackedImageGroups] = new(isa => new BcPacked7x7(5, 1, isa), 64, 7, 7, 128, 3, 1, 1, 1, true, 5),
            [nameof(BcPackedStride2)] = new(isa => new BcPackedStride2(Batch, 1, isa), 32, 14, 14, 128, 3, 2, 1, 1, false),
            [nameof(BcPackedRemainder)] = new(isa => new BcPackedRemainder(Batch, 1, isa), 16, 3, 3, 64, 3, 1, 1, 1, true),
            [nameof(BcPackedWinogradRagged)] = new(isa => new BcPackedWinogradRagged(3, 1, isa), 24, 5, 6, 64, 3, 1, 1, 1, true, 3),
            [nameof(BcPackedWinogradWide)] = new(isa => new BcPackedWinogradWide(Batch, 1, isa), 8, 3, 14, 96, 3, 1, 1, 1, false),
            [PackedWinogradTeamOfTwo] = new(isa => new BcPackedWinogradRagged(1, 1, isa, threads: 2) { TeamMinimumFlops = 0 }, 24, 5, 6, 64, 3, 1, 1, 1, true, 1),
        };

        /// <summary>The cases whose conv runs as Winograd by default; they also run with <see cref="INetwork.Winograd"/> off.</summary>
        private static readonly HashSet<string> WinogradCases = new()
        {
            nameof(BcPixelBlocks), nameof(BcWinogradSmall), nameof(BcWinogradWide), nameof(BcWinogradDotColumns), nameof(BcWinogradWeightGradient16Tiles),
            nameof(BcPacked7x7), PackedImageGroups, nameof(BcPackedRemainder), nameof(BcPackedWinogradRagged), nameof(BcPackedWinogradWide), PackedWinogradTeamOfTwo,
        };

        private const int Batch = 2;
        private const string WinogradChunks = nameof(BcWinogradWeightGradient16Tiles) + ", 3 images";
        private const string WinogradTeamOfTwo = nameof(BcWinogradWeightGradient16Tiles) + ", 5 images, 2 workers";
        private const string WinogradTeamOfThree = nameof(BcWinogradWeightGradient16Tiles) + ", 7 images, 3 workers";
        private const string WinogradPerWorkerTeamOfTwo = nameof(BcWinogradWide) + ", 3 images, 2 workers";
        private const string WinogradPerWorkerTeamOfThree = nameof(BcWinogradSmall) + ", 7 images, 3 workers";
        private const string PixelBlocksTeamOfTwo = nameof(BcPixelBlocks) + ", 4 images, 2 workers";
        private const string ChannelsLastTeamOfTwo = nameof(BcChannelsLast) + ", 5 images, 2 workers";
        private const string PixelBlocksTeamOfThree = nameof(BcPixelBlocks) + ", 5 images, 3 workers";
        private const string PackedWinogradTeamOfTwo = nameof(BcPackedWinogradRagged) + ", 1 image, a team of 2";
        private const string PackedImageGroups = nameof(BcPacked7x7) + ", 5 images";

        public static IEnumerable<object[]> All() =>
            from name in Cases.Keys
            from isa in NumericsSupport.SupportedIsas
            from winograd in WinogradCases.Contains(name) ? new[] { true, false } : new[] { true }
            select new object[] { name, isa, winograd };

        private static CheckedLayer Conv(int cin, int h, int w, int cout, int k, int s = 1, int p = 0) => NumericsSupport.ConvLayer(cin, h, w, cout, k, s, p);

        [Fact]
        public void WeightGradientIsTransposedForSmallWellFilledOutputChannelCountsOnly()
        {
            Assert.True(MemoryPlanner.IsWeightGradientTransposed(Conv(3, 224, 224, 64, 7, 2, 3)));   // ResNet's stem: 147 x 64
            Assert.True(MemoryPlanner.IsWeightGradientTransposed(Conv(256, 56, 56, 64, 1)));          // bottleneck reduction
            Assert.True(MemoryPlanner.IsWeightGradientTransposed(Conv(3, 64, 62, 32, 7, 2, 3)));     // BcStem
            Assert.True(MemoryPlanner.IsWeightGradientTransposed(Conv(96, 20, 21, 32, 1)));          // BcPointwiseTransposed
            Assert.True(MemoryPlanner.IsWeightGradientTransposed(Conv(128, 48, 45, 32, 1)));         // BcPointwiseStreamed
            Assert.False(MemoryPlanner.IsWeightGradientTransposed(Conv(256, 14, 14, 256, 3, 1, 1))); // dW^T 2.4 MB: outside L2
            Assert.False(MemoryPlanner.IsWeightGradientTransposed(Conv(36, 14, 14, 72, 3, 1, 1)));   // 72 fills strips worse than 324
            Assert.False(MemoryPlanner.IsWeightGradientTransposed(Conv(64, 56, 56, 256, 1)));         // more output channels than rows
            Assert.False(MemoryPlanner.IsWeightGradientTransposed(Conv(16, 33, 31, 20, 3, 1, 1)));   // BcPixelBlocks: 20 is ragged
        }

        [Fact]
        public void WeightGradientReadsShiftedPlanesForStrideOneSameConvsTakingWholeImages()
        {
            Assert.True(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(36, 14, 14, 72, 3, 1, 1)));    // the seed net's layer
            Assert.True(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(1, 28, 28, 36, 3, 1, 1)));     // and its first conv
            Assert.True(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(6, 11, 12, 10, 5, 1, 2)));     // BcShiftedPlanes5x5
            Assert.True(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(2, 20, 7, 8, 7, 1, 3)));       // BcShiftedPlanes7x7
            Assert.True(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(4, 12, 12, 8, 3, 1, 1)));      // BcShiftedPlanesDots
            Assert.False(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(128, 28, 28, 128, 3, 1, 1))); // Winograd's weight gradient
            Assert.False(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(64, 56, 56, 128, 3, 2, 1)));  // stride 2
            Assert.False(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(64, 16, 16, 200, 3)));        // no padding: 14 x 14 out
            Assert.False(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(16, 33, 31, 20, 3, 1, 1)));   // BcPixelBlocks: pixel blocks
            Assert.False(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(20, 7, 7, 13, 3, 1, 1)));     // 49 pixels: image groups
            Assert.False(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(96, 20, 21, 32, 1)));         // 1x1 reads its input
            Assert.False(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(8, 12, 12, 8, 13, 1, 6)));    // wider kernel than map
            // the planes: 16 rows (14 + 2 padding) x 14 + 2 floats past them, in whole cache lines; 3 copies of 36 channels
            Assert.Equal(240, MemoryPlanner.ShiftedPlaneLength(Conv(36, 14, 14, 72, 3, 1, 1)));
            Assert.Equal(3L * 36 * 240, MemoryPlanner.ShiftedPlanesLength(Conv(36, 14, 14, 72, 3, 1, 1)));
        }

        [Fact]
        public void WeightGradientReadsChannelsLastWhenAKernelRowsTapsFillTheirVectors()
        {
            Assert.True(MemoryPlanner.IsChannelsLastWeightGradient(Conv(36, 14, 14, 72, 3, 1, 1)));   // the seed net's layer: 108 of 112
            Assert.True(MemoryPlanner.IsChannelsLastWeightGradient(Conv(20, 12, 11, 13, 3, 1, 1)));   // BcChannelsLast: 60 of 64
            Assert.True(MemoryPlanner.IsChannelsLastWeightGradient(Conv(16, 13, 12, 10, 5, 1, 2)));   // BcChannelsLast5x5: 80 of 80
            Assert.False(MemoryPlanner.IsChannelsLastWeightGradient(Conv(1, 28, 28, 36, 3, 1, 1)));   // 3 floats a row
            Assert.False(MemoryPlanner.IsChannelsLastWeightGradient(Conv(6, 11, 12, 10, 5, 1, 2)));   // BcShiftedPlanes5x5: 30
            Assert.True(MemoryPlanner.IsShiftedPlaneWeightGradient(Conv(17, 14, 14, 24, 3, 1, 1)));   // 51 of 64: under 85%, so
            Assert.False(MemoryPlanner.IsChannelsLastWeightGradient(Conv(17, 14, 14, 24, 3, 1, 1)));  // it keeps the shifted planes
            Assert.False(MemoryPlanner.IsChannelsLastWeightGradient(Conv(64, 56, 56, 128, 3, 2, 1))); // stride 2
            Assert.False(MemoryPlanner.IsChannelsLastWeightGradient(Conv(128, 28, 28, 128, 3, 1, 1))); // Winograd's weight gradient
            // the seed layer: 16 x 16 padded pixels of 36 floats + 4 lanes read past the last, in whole cache lines; dW' 72 x 3 x 112
            Assert.Equal(112, MemoryPlanner.ChannelsLastRowLength(Conv(36, 14, 14, 72, 3, 1, 1)));
            Assert.Equal(9232, MemoryPlanner.ChannelsLastImageLength(Conv(36, 14, 14, 72, 3, 1, 1)));
            Assert.Equal(9232 + 72 * 336, MemoryPlanner.ChannelsLastWorkspace(Conv(36, 14, 14, 72, 3, 1, 1)));
        }

        [Theory]
        [MemberData(nameof(Isas))]
        public void PackedFoldedInferenceEqualsTheUnfoldedForward(Isa isa)
        {
            const int batch = 3;
            using var net = new BcPackedFolded(batch, 1, isa);
            var rng = new Rng(17);
            NumericsSupport.Randomize(net, rng);
            float[] x = NumericsSupport.Gaussian(batch * BcPackedFolded.InputSize, rng);
            var folded = new float[batch * BcPackedFolded.OutputSize];
            var unfolded = new float[folded.Length];
            net.Forward(x, folded, batch);             // packed folded weights
            net.FoldBatchNorm = false;
            net.Forward(x, unfolded, batch);           // the weights as stored, BatchNorm on its own
            for (int i = 0; i < folded.Length; i++)
                Assert.True(Math.Abs(folded[i] - unfolded[i]) <= 1e-4f * (1 + Math.Abs(unfolded[i])), $"output {i}: folded {folded[i]}, unfolded {unfolded[i]}");
            Assert.NotEqual(0f, folded.Max() - folded.Min());
            // a weight change repacks before the next folded inference
            net.Parameters[0].Value[5] += 1f;
            net.ParametersChanged();
            net.FoldBatchNorm = true;
            net.Forward(x, folded, batch);
            net.FoldBatchNorm = false;
            net.Forward(x, unfolded, batch);
            for (int i = 0; i < folded.Length; i++)
                Assert.True(Math.Abs(folded[i] - unfolded[i]) <= 1e-4f * (1 + Math.Abs(unfolded[i])), $"after the change, output {i}: folded {folded[i]}, unfolded {unfolded[i]}");
        }

        public static IEnumerable<object[]> Isas() => NumericsSupport.SupportedIsas.Select(isa => new object[] { isa });

        [Fact]
        public void InferenceReadsPackedWeightsWhereOutputChannelsOutnumberPixels()
        {
            Assert.True(MemoryPlanner.IsPackedForward(Conv(512, 7, 7, 512, 3, 1, 1)));     // ResNet-18's 7 x 7 stage
            Assert.True(MemoryPlanner.IsPackedForward(Conv(256, 14, 14, 512, 3, 2, 1)));   // and the stride-2 conv onto it
            Assert.True(MemoryPlanner.IsPackedForward(Conv(256, 14, 14, 512, 1, 2, 0)));   // and its 1x1 projection
            Assert.True(MemoryPlanner.IsPackedForward(Conv(64, 7, 7, 128, 3, 1, 1)));      // BcPacked7x7
            Assert.False(MemoryPlanner.IsPackedForward(Conv(256, 14, 14, 256, 3, 1, 1)));  // Winograd
            Assert.False(MemoryPlanner.IsPackedForward(Conv(128, 28, 28, 256, 3, 2, 1)));  // 196 pixels: 256 < 2 x 196
            Assert.False(MemoryPlanner.IsPackedForward(Conv(64, 7, 7, 100, 3, 1, 1)));     // 100: no whole strips of 32
            Assert.False(MemoryPlanner.IsPackedForward(Conv(512, 7, 7, 512, 1)));          // 1x1 stride 1 reads its input
        }

        [Fact]
        public void PackedThreeByThreeSameConvsInferAsWinogradTwoByTwo()
        {
            Assert.True(MemoryPlanner.IsPackedWinograd(Conv(512, 7, 7, 512, 3, 1, 1)));    // ResNet-18's 7 x 7 stage
            Assert.True(MemoryPlanner.IsPackedWinograd(Conv(64, 7, 7, 128, 3, 1, 1)));     // BcPacked7x7
            Assert.False(MemoryPlanner.IsPackedWinograd(Conv(256, 14, 14, 512, 3, 2, 1))); // stride 2: the direct packed GEMM
            Assert.False(MemoryPlanner.IsPackedWinograd(Conv(256, 14, 14, 512, 1, 2, 0))); // 1x1
            Assert.False(MemoryPlanner.IsPackedWinograd(Conv(256, 14, 14, 256, 3, 1, 1))); // F(4x4, 3x3), not packed
            Assert.False(MemoryPlanner.IsPackedWinograd(Conv(64, 7, 7, 100, 3, 1, 1)));    // not packed: 100 is no whole strips
            // their training forward takes 4 images per GEMM (7 x 7: 196 columns); the packed inference runs each as Winograd
            Assert.Equal(4, MemoryPlanner.ImageGroup(Conv(512, 7, 7, 512, 3, 1, 1)));
            Assert.Equal(4, MemoryPlanner.ImageGroup(Conv(64, 7, 7, 128, 3, 1, 1)));       // BcPacked7x7, 5 images
            // 7 x 7: 4 x 4 tiles; 5 x 6: 3 x 3 rounded up to 3 x 4; 3 x 14: 2 x 7 rounded up to 2 x 8
            Assert.Equal((4, 4, 4), MemoryPlanner.PackedWinogradTiles(Conv(512, 7, 7, 512, 3, 1, 1)));
            Assert.Equal((3, 3, 4), MemoryPlanner.PackedWinogradTiles(Conv(24, 5, 6, 64, 3, 1, 1)));
            Assert.Equal((2, 7, 8), MemoryPlanner.PackedWinogradTiles(Conv(8, 3, 14, 96, 3, 1, 1)));
            // V^T and M^T: 16 matrices of 16 tiles x 512 each, 513 lines apart; Y^T: 49 rows of 512, 33 lines apart
            Assert.Equal(16L * (8208 + 8208) + 49 * 528, MemoryPlanner.PackedWinogradWorkspace(Conv(512, 7, 7, 512, 3, 1, 1)));
        }

        [Fact]
        public void PixelBlocksAreWholeOutputRowsWhenSuchRowsAreWholeVectors()
        {
            Assert.Equal(336, MemoryPlanner.PixelBlock(Conv(3, 224, 224, 64, 7, 2, 3)));   // ResNet's stem: 3 rows of 112 (was 432)
            Assert.Equal(416, MemoryPlanner.PixelBlock(Conv(3, 64, 64, 16, 7, 2, 3)));     // BcWholeRowBlocks: 13 rows of 32
            Assert.Equal(336, MemoryPlanner.PixelBlock(Conv(3, 64, 62, 32, 7, 2, 3)));     // BcStem: 31 wide, rows stay cut
            Assert.Equal(112, MemoryPlanner.PixelBlock(Conv(64, 56, 56, 128, 3, 2, 1)));   // 4 rows of 28, as before
            Assert.Equal(196, MemoryPlanner.PixelBlock(Conv(36, 14, 14, 72, 3, 1, 1)));    // one block: the whole image
        }

        [Fact]
        public void WeightGradientUsesWholeImagesWhenReloadingDwPerBlockCostsMore()
        {
            CheckedLayer whole = Conv(64, 16, 16, 200, 3);                                           // BcWholeImageWeightGradient
            Assert.Equal(112, MemoryPlanner.PixelBlock(whole));
            Assert.True(MemoryPlanner.WholeImageWeightGradient(whole));                              // 1 more block x 200 > 196
            Assert.True(MemoryPlanner.WholeImageWeightGradient(Conv(256, 14, 14, 256, 3, 1, 1)));   // ResNet: 3 x 256 > 196
            Assert.False(MemoryPlanner.WholeImageWeightGradient(Conv(64, 16, 16, 100, 3)));          // 100 < 196: blocks stay
            Assert.False(MemoryPlanner.WholeImageWeightGradient(Conv(3, 224, 224, 64, 7, 2, 3)));    // stem: 28 x 64 < 12544
            Assert.False(MemoryPlanner.WholeImageWeightGradient(Conv(36, 14, 14, 72, 3, 1, 1)));     // one block already
            Assert.False(MemoryPlanner.WholeImageWeightGradient(Conv(256, 56, 56, 64, 1)));          // 1x1: reads the input
        }

        [Theory]
        [MemberData(nameof(All))]
        public void ForwardAndGradientsMatchADirectConvolution(string netName, Isa isa, bool winograd)
        {
            Case c = Cases[netName];
            int Batch = c.Batch;
            using INetwork net = c.Create(isa);
            net.Winograd = winograd;
            Assert.Equal(isa, net.Isa);
            var rng = new Rng(11);
            foreach (Parameter p in net.Parameters) NumericsSupport.FillGaussian(p.Value, rng, 0.3f);
            net.ParametersChanged();
            int OH = (c.H + 2 * c.P - c.K) / c.S + 1, OW = (c.W + 2 * c.P - c.K) / c.S + 1;
            int cinG = c.Cin / c.Groups, coutG = c.Cout / c.Groups;
            Assert.Equal(c.Cin * c.H * c.W, net.InputLength);
            Assert.Equal(c.Cout * OH * OW, net.OutputLength);
            float[] x = NumericsSupport.Gaussian(Batch * net.InputLength, rng);
            float[] dy = NumericsSupport.Gaussian(Batch * net.OutputLength, rng);
            float[] w = net.Parameters[0].Value.ToArray();
            float[] b = c.Bias ? net.Parameters[1].Value.ToArray() : new float[c.Cout];

            var y = new float[Batch * net.OutputLength];
            var dx = new float[Batch * net.InputLength];
            net.ZeroGradients();
            net.Forward(x, y, Batch);
            net.Backward(dy, dx, Batch);
            float[] dw = net.Parameters[0].Gradient.ToArray();
            float[] db = c.Bias ? net.Parameters[1].Gradient.ToArray() : new float[c.Cout];

            // Reference, in double, with the sum of absolute terms for the tolerance.
            var ry = new double[y.Length]; var sy = new double[y.Length];
            var rdx = new double[dx.Length]; var sdx = new double[dx.Length];
            var rdw = new double[dw.Length]; var sdw = new double[dw.Length];
            var rdb = new double[c.Cout]; var sdb = new double[c.Cout];
            for (int n = 0; n < Batch; n++)
                for (int m = 0; m < c.Cout; m++)
                {
                    int g = m / coutG;
                    for (int oh = 0; oh < OH; oh++)
                        for (int ow = 0; ow < OW; ow++)
                        {
                            int yi = ((n * c.Cout + m) * OH + oh) * OW + ow;
                            double acc = b[m], abs = Math.Abs(b[m]);
                            double g0 = dy[yi];
                            rdb[m] += g0; sdb[m] += Math.Abs(g0);
                            for (int ci = 0; ci < cinG; ci++)
                                for (int kh = 0; kh < c.K; kh++)
                                    for (int kw = 0; kw < c.K; kw++)
                                    {
                                        int ih = oh * c.S - c.P + kh, iw = ow * c.S - c.P + kw;
                                        if ((uint)ih >= (uint)c.H || (uint)iw >= (uint)c.W) continue;
                                        int xi = ((n * c.Cin + g * cinG + ci) * c.H + ih) * c.W + iw;
                                        int wi = ((m * cinG + ci) * c.K + kh) * c.K + kw;
                                        acc += (double)w[wi] * x[xi]; abs += Math.Abs((double)w[wi] * x[xi]);
                                        rdw[wi] += g0 * x[xi]; sdw[wi] += Math.Abs(g0 * x[xi]);
                                        rdx[xi] += g0 * w[wi]; sdx[xi] += Math.Abs(g0 * w[wi]);
                                    }
                            ry[yi] = acc; sy[yi] = abs;
                        }
                }
            Check("y", y, ry, sy);
            Check("dW", dw, rdw, sdw);
            if (c.Bias) Check("db", db, rdb, sdb);
            Check("dx", dx, rdx, sdx);

            // Again on the same instance: the workspaces now hold the last call's values, which no kernel may start from
            // (Winograd's weight gradient stores its first image's dU instead of clearing it first).
            net.ZeroGradients();
            Array.Fill(dx, float.NaN);
            net.Forward(x, y, Batch);
            net.Backward(dy, dx, Batch);
            Check("dW (second call)", net.Parameters[0].Gradient.ToArray(), rdw, sdw);
            if (c.Bias) Check("db (second call)", net.Parameters[1].Gradient.ToArray(), rdb, sdb);
            Check("dx (second call)", dx, rdx, sdx);
        }

        private static void Check(string what, float[] got, double[] reference, double[] absSum)
        {
            for (int i = 0; i < got.Length; i++)
            {
                double tol = 1e-4 * absSum[i] + 1e-6;
                if (Math.Abs(got[i] - reference[i]) > tol)
                    Assert.Fail($"{what}[{i}] = {got[i]}, reference {reference[i]} (tolerance {tol:G3})");
            }
        }
    }
}
