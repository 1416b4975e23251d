// One call at a time per network instance. A generated network owns its activation, gradient and scratch memory,
// so two threads inside Forward / Backward / TrainStep at once would overwrite each other's intermediate values
// and return garbage without any error. Every public call enters this guard; a second thread is refused with an
// exception instead, and Dispose is refused while a call is running (it would free memory the call still uses).
using System;
using System.Threading;

namespace CnnGen
{
    public sealed class CallGuard
    {
        private const int Idle = 0, Busy = 1, Disposed = 2;
        private readonly string _typeName;
        private int _state;
        private string _current = "";
        private int _thread;

        public CallGuard(string typeName) => _typeName = typeName;

        /// <summary>Marks <paramref name="call"/> as running until the returned scope is disposed (use with <c>using</c>;
        /// a struct, so entering allocates nothing).</summary>
        public Scope Enter(string call)
        {
            int state = Interlocked.CompareExchange(ref _state, Busy, Idle);
            if (state != Idle) throw Refused(call, state);
            _current = call;
            _thread = Environment.CurrentManagedThreadId;
            return new Scope(this);
        }

        /// <summary>Like <see cref="Enter"/>, but a call already running on this thread may make it (e.g. TrainStep reading
        /// layer outputs to name a non-finite tensor); the returned scope then leaves the running call in place.</summary>
        public Scope EnterOrJoin(string call)
        {
            if (Volatile.Read(ref _state) == Busy && Volatile.Read(ref _thread) == Environment.CurrentManagedThreadId) return default;
            return Enter(call);
        }

        /// <summary>Marks the instance disposed; false if it already was. Throws if a call is running.</summary>
        public bool TryBeginDispose()
        {
            int state = Interlocked.CompareExchange(ref _state, Disposed, Idle);
            if (state == Disposed) return false;
            if (state == Busy) throw Refused("Dispose", state);
            return true;
        }

        public bool IsDisposed => Volatile.Read(ref _state) == Disposed;

        private Exception Refused(string call, int state)
        {
            if (state == Disposed)
                return new ObjectDisposedException(_typeName, $"{_typeName}.{call}: this {_typeName} has been disposed; its memory is gone. Create a new instance.");
            string running = Volatile.Read(ref _current);
            string where = Volatile.Read(ref _thread) == Environment.CurrentManagedThreadId ? "on this thread (a re-entrant call, e.g. from a callback)" : "on another thread";
            return new InvalidOperationException(
                $"{_typeName}.{call} was called while {_typeName}.{running} is running {where}. A network instance runs one call at a time " +
                "because it reuses its activation and gradient memory; give each thread its own instance (copy the weights with " +
                "WeightFile or the Parameters' values) or serialize the calls with a lock.");
        }

        public readonly struct Scope : IDisposable
        {
            private readonly CallGuard _guard;
            internal Scope(CallGuard guard) => _guard = guard;
            public void Dispose()
            {
                if (_guard is null) return;
                _guard._thread = 0;
                Volatile.Write(ref _guard._state, Idle);
            }
        }
    }
}
