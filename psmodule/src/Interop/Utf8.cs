using System;
using System.Runtime.InteropServices;
using System.Text;

namespace OBAgent.Interop
{
    /// <summary>UTF-8 marshalling done by hand (netstandard2.0 has no LPUTF8Str guarantee).</summary>
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>
        /// A NUL-terminated UTF-8 copy of s, or null for a null s (passed as NULL). A NUL inside s is
        /// refused (OB_EINVALID): the library would read the text only up to it.
        /// </summary>
        internal static byte[] ToNative(string s)
        {
            if (s == null)
                return null;
            int nul = s.IndexOf('\0');
            if (nul >= 0)
                throw ErrorMap.FromNative((int)ErrorCode.Invalid, string.Format(
                    "The text '{0}' contains a NUL character (shown as \\0), which would cut it short at '{1}'. Remove it and try again.",
                    s.Replace("\0", "\\0"), s.Substring(0, nul)));
            int n = Strict.GetByteCount(s);
            byte[] bytes = new byte[n + 1];
            Strict.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>The string at a NUL-terminated UTF-8 pointer, or null for NULL.</summary>
        internal static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero)
                return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0)
                n++;
            if (n == 0)
                return string.Empty;
            byte[] bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Read a string the library returned through an out argument, then ob_str_free it.</summary>
        internal static string TakeOwned(IntPtr p)
        {
            try
            {
                return FromNative(p);
            }
            finally
            {
                NativeMethods.ob_str_free(p);
            }
        }
    }
}
