// LayerCursor: the split backward's hand-off between the input-gradient chain and the weight-gradient worker. A waiter
// returns once the position is at or below its layer, sees every write made before the move, and is released by Finish.
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    public sealed class LayerCursorTests
    {
        [Fact]
        public void WaiterSeesTheWritesBeforeEachMove()
        {
            var cursor = new LayerCursor();
            var data = new int[64];
            var seen = new int[64];
            // the mover writes layer i's slot, then moves to i (layers fall: 63 .. 0); the waiter reads each slot after waiting
            var waiter = Task.Run(() =>
            {
                for (int i = 63; i >= 0; i--)
                {
                    cursor.WaitUntilAt(i);
                    seen[i] = data[i];
                }
            });
            for (int i = 63; i >= 0; i--)
            {
                data[i] = 1000 + i;
                cursor.MoveTo(i);
                if (i % 16 == 0) Thread.Sleep(1); // let the waiter catch up and spin at times
            }
            Assert.True(waiter.Wait(10_000), "the waiter did not finish");
            for (int i = 0; i < 64; i++) Assert.Equal(1000 + i, seen[i]);
        }

        [Fact]
        public void StartsAboveEveryLayerAndFinishReleasesEveryWaiter()
        {
            var cursor = new LayerCursor();
            Assert.Equal(int.MaxValue, cursor.Position);
            var waiter = Task.Run(() => cursor.WaitUntilAt(0));
            Assert.False(waiter.Wait(50)); // nothing reached yet: it waits
            cursor.MoveTo(5);
            Assert.False(waiter.Wait(50)); // 5 is above 0: still waiting
            cursor.Finish(); // the worker stopped (done or failed)
            Assert.True(waiter.Wait(10_000));
            Assert.Equal(int.MinValue, cursor.Position);
            cursor.Reset();
            Assert.Equal(int.MaxValue, cursor.Position);
        }
    }
}
