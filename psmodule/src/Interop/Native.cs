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
    /// </summary>
    internal static partial class Native
    {
        /// <summary>The environment variables the library reads (common.h, ob_env_set).</summary>
        internal static readonly string[] EnvironmentNames = { "OBAGENT_HOME", "OBAGENT_SERVER_NAME", "OBAGENT_NOW", "OBAGENT_WORKER" };

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
