using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>An unmanaged copy of a struct for one call (IntPtr.Zero for "no struct"), freed on Dispose.</summary>
    internal sealed class StructBuffer<T> : IDisposable where T : struct
    {
        internal IntPtr Pointer { get; private set; }

        internal static StructBuffer<T> Of(T? value)
        {
            var b = new StructBuffer<T>();
            if (value.HasValue)
            {
                b.Pointer = Marshal.AllocHGlobal(Marshal.SizeOf<T>());
                Marshal.StructureToPtr(value.Value, b.Pointer, false);
            }
            return b;
        }

        internal T Read()
        {
            return Marshal.PtrToStructure<T>(Pointer);
        }

        public void Dispose()
        {
            if (Pointer != IntPtr.Zero)
            {
                Marshal.FreeHGlobal(Pointer);
                Pointer = IntPtr.Zero;
            }
        }
    }
}
