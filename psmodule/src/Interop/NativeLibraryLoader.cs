using System;
using System.IO;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>
    /// Loads libobagent from the module folder (next to OBAgent.dll) by full path before the
    /// first P/Invoke, so that [DllImport("libobagent")] binds to that copy on every host:
    /// Windows PowerShell 5.1 (.NET Framework) does not probe an assembly's folder at all,
    /// and PowerShell 7 on Unix would otherwise depend on its probing rules.
    /// When no copy is there, the operating system's search path is used as is. Its name is
    /// libobagent on every platform (NativeMethods.Library), so that on Windows it never resolves
    /// to the managed OBAgent.dll beside it (docs/WINDOWS.md).
    /// </summary>
    internal static class NativeLibraryLoader
    {
        private const int RTLD_NOW = 0x002;
        private const int RTLD_GLOBAL_LINUX = 0x100;
        private const int RTLD_GLOBAL_MACOS = 0x008;

        private static readonly object Gate = new object();
        private static bool loaded;

        // LoadLibraryExW flags: the DLL's own folder first for its dependencies (libcrypto, libcurl, sqlite3,
        // libdeflate beside it), then the system's safe default folders; never the current directory.
        private const uint LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR = 0x00000100;
        private const uint LOAD_LIBRARY_SEARCH_DEFAULT_DIRS = 0x00001000;

        [DllImport("kernel32", EntryPoint = "LoadLibraryExW", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern IntPtr LoadLibraryExW(string path, IntPtr file, uint flags);

        [DllImport("libdl.so.2", EntryPoint = "dlopen")]
        private static extern IntPtr DlopenLibdl2(byte[] path, int flags);

        [DllImport("libdl", EntryPoint = "dlopen")]
        private static extern IntPtr DlopenLibdl(byte[] path, int flags);

        [DllImport("libc", EntryPoint = "dlopen")]
        private static extern IntPtr DlopenLibc(byte[] path, int flags);

        [DllImport("libdl.so.2", EntryPoint = "dlerror")]
        private static extern IntPtr DlerrorLibdl2();

        /// <summary>The file name of the native library on this platform.</summary>
        internal static string FileName
        {
            get
            {
                // Not obagent.dll: on a case-insensitive file system that is the managed OBAgent.dll.
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                    return "libobagent.dll";
                if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
                    return "libobagent.dylib";
                return "libobagent.so";
            }
        }

        internal static void Load()
        {
            lock (Gate)
            {
                if (loaded)
                    return;
                string folder = Path.GetDirectoryName(typeof(NativeLibraryLoader).Assembly.Location);
                string path = string.IsNullOrEmpty(folder) ? null : Path.Combine(folder, FileName);
                if (path != null && File.Exists(path))
                {
                    if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                    {
                        if (LoadLibraryExW(path, IntPtr.Zero, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS) == IntPtr.Zero)
                            throw new DllNotFoundException(string.Format(
                                "Cannot load '{0}' (Windows error {1}).", path, Marshal.GetLastWin32Error()));
                    }
                    else
                    {
                        DlopenUnix(path);
                    }
                }
                loaded = true;
            }
        }

        private static void DlopenUnix(string path)
        {
            bool mac = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);
            int flags = RTLD_NOW | (mac ? RTLD_GLOBAL_MACOS : RTLD_GLOBAL_LINUX);
            byte[] name = Utf8.ToNative(path);
            IntPtr h;
            string detail = null;
            if (mac)
            {
                h = DlopenLibc(name, flags);
            }
            else
            {
                try
                {
                    h = DlopenLibdl2(name, flags);
                    if (h == IntPtr.Zero)
                        detail = Utf8.FromNative(DlerrorLibdl2());
                }
                catch (DllNotFoundException)
                {
                    try
                    {
                        h = DlopenLibc(name, flags);
                    }
                    catch (EntryPointNotFoundException)
                    {
                        h = DlopenLibdl(name, flags);
                    }
                }
            }
            if (h == IntPtr.Zero)
                throw new DllNotFoundException(string.Format("Cannot load '{0}': {1}", path, detail ?? "dlopen failed"));
        }
    }
}
