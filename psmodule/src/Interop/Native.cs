using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>
    /// One safe wrapper per native call: managed arguments in, managed values out, an
    /// OBAgentException (built by ErrorMap) for every negative status. Nothing here keeps state
    /// except the one-time initialisation. All calls happen on the pipeline thread, so
    /// ob_error_last() read right after a failure is that failure's text.
    ///
    /// One file per C header: this one holds common.h and the shapes every wrapper uses (Open
    /// for a handle, Take for one owned object, TakeList for an owned array); Native.Vault.cs,
    /// Native.Agent.cs, Native.Policy.cs, Native.Schedule.cs, Native.Job.cs and Native.Recovery.cs
    /// the rest. The System State calls live with their headers (policy.h, job.h): systemstate.h
    /// declares only ob_systemstate_capture, which the module does not call.
    /// </summary>
    internal static partial class Native
    {
        /// <summary>The environment variables the library reads (common.h, ob_env_set).</summary>
        internal static readonly string[] EnvironmentNames = { "OBAGENT_HOME", "OBAGENT_SERVER_NAME", "OBAGENT_NOW", "OBAGENT_WORKER",
            "OBAGENT_WORKER_ENV" };

        private static readonly object Gate = new object();
        private static bool initialized;

        /// <summary>The exception for a failed call; read at once, before any other native call.</summary>
        private static OBAgentException Failure(int rc)
        {
            return ErrorMap.FromNative(rc, Utf8.FromNative(NativeMethods.ob_error_last()));
        }

        private static void Check(int rc)
        {
            if (rc < 0)
                throw Failure(rc);
        }

        private static DateTimeOffset FromUnix(long seconds)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }

        /// <summary>A native call that makes one object and hands it out through its only out parameter.</summary>
        private delegate int MakeCall<T>(out T made);

        /// <summary>A native call that hands out an owned array of pointers and its length.</summary>
        private delegate int ListCall(out IntPtr list, out UIntPtr count);

        /// <summary>
        /// Run a call that makes a handle and return it. On failure the handle (empty, or whatever
        /// the call left) is disposed and the failure thrown; when the status is absent (e.g.
        /// OB_ENOTFOUND for "there is none"), the error is cleared and null returned instead.
        /// </summary>
        private static T Open<T>(MakeCall<T> call, ErrorCode? absent = null) where T : SafeHandle
        {
            T made;
            int rc = call(out made);
            if (absent.HasValue && rc == (int)absent.Value)
            {
                made.Dispose();
                NativeMethods.ob_error_clear();
                return null;
            }
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                made.Dispose();
                throw failure;
            }
            return made;
        }

        /// <summary>
        /// Run a call that hands out one owned object, read it with read, then free it (also on
        /// failure, after the error text is read). An absent status clears the error and gives null.
        /// </summary>
        private static T Take<T>(MakeCall<IntPtr> call, Action<IntPtr> free, Func<IntPtr, T> read, ErrorCode? absent = null)
            where T : class
        {
            IntPtr p;
            int rc = call(out p);
            if (absent.HasValue && rc == (int)absent.Value)
            {
                free(p);
                NativeMethods.ob_error_clear();
                return null;
            }
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                free(p);
                throw failure;
            }
            try
            {
                return read(p);
            }
            finally
            {
                free(p);
            }
        }

        /// <summary>Run a call that hands out a string to ob_str_free, and return it.</summary>
        private static string TakeString(MakeCall<IntPtr> call)
        {
            return Take(call, NativeMethods.ob_str_free, Utf8.FromNative);
        }

        /// <summary>Run a call that hands out an owned array, read each element with read, then free the array.</summary>
        private static List<T> TakeList<T>(ListCall call, Action<IntPtr, UIntPtr> free, Func<IntPtr, T> read)
        {
            IntPtr list;
            UIntPtr count;
            int rc = call(out list, out count);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                free(list, count);
                throw failure;
            }
            try
            {
                var items = new List<T>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                    items.Add(read(Marshal.ReadIntPtr(list, (int)i * IntPtr.Size)));
                return items;
            }
            finally
            {
                free(list, count);
            }
        }

        /// <summary>Splits newline-separated native text into its non-empty lines.</summary>
        private static string[] Lines(string text)
        {
            if (string.IsNullOrEmpty(text))
                return new string[0];
            return text.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
        }

        /// <summary>Load the library from the module folder and call ob_init, once per process.</summary>
        internal static void EnsureInitialized()
        {
            lock (Gate)
            {
                if (initialized)
                    return;
                NativeLibraryLoader.Load();
                Check(NativeMethods.ob_init());
                initialized = true;
            }
        }

        internal static string Version()
        {
            EnsureInitialized();
            return Utf8.FromNative(NativeMethods.ob_version());
        }

        internal static void SetEnvironment(string name, string value)
        {
            Check(NativeMethods.ob_env_set(Utf8.ToNative(name), Utf8.ToNative(value)));
        }

        /// <summary>
        /// Hand the runtime's current values of OBAGENT_HOME, OBAGENT_SERVER_NAME and OBAGENT_NOW
        /// to the library (.NET on Unix keeps its own copy of the environment; getenv does not
        /// see $env: changes). An unset or empty variable clears the override.
        /// </summary>
        internal static void SyncEnvironment()
        {
            EnsureInitialized();
            foreach (string name in EnvironmentNames)
            {
                string value = Environment.GetEnvironmentVariable(name);
                SetEnvironment(name, string.IsNullOrEmpty(value) ? null : value);
            }
        }
    }
}
