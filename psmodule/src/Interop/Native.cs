using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>What ob_registration holds, copied out of native memory.</summary>
    internal sealed class RegistrationInfo
    {
        internal string VaultName;
        internal string VaultId;
        internal string VaultLocation;
        internal string StorageType;
        internal string ServerName;
        internal string ServerId;
        internal DateTimeOffset RegisteredAt;
    }

    /// <summary>What ob_machine_settings holds, copied out of native memory.</summary>
    internal sealed class MachineSettingsInfo
    {
        internal bool ProxyEnabled;
        internal string ProxyServer;
        internal int ProxyPort;
        internal string ProxyUsername;
        internal bool ProxyHasPassword;
        internal bool EncryptionKeySet;
        internal bool ThrottleEnabled;
        internal uint WorkDays;
        internal int StartWorkMinute;
        internal int EndWorkMinute;
        internal uint WorkHourBandwidth;
        internal uint NonWorkHourBandwidth;
    }

    /// <summary>
    /// One safe wrapper per native call: managed arguments in, managed values out, an
    /// OBAgentException (built by ErrorMap) for every negative status. Nothing here keeps state
    /// except the one-time initialisation. All calls happen on the pipeline thread, so
    /// ob_error_last() read right after a failure is that failure's text.
    /// </summary>
    internal static class Native
    {
        /// <summary>The environment variables the library reads (common.h, ob_env_set).</summary>
        internal static readonly string[] EnvironmentNames = { "OBAGENT_HOME", "OBAGENT_SERVER_NAME", "OBAGENT_NOW" };

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

        // vault.h

        internal static VaultHandle VaultCreate(string path, string name)
        {
            VaultHandle vault;
            int rc = NativeMethods.ob_vault_create(out vault, Utf8.ToNative(path), Utf8.ToNative(name));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                vault.Dispose();
                throw failure;
            }
            return vault;
        }

        internal static VaultHandle VaultOpen(string path)
        {
            VaultHandle vault;
            int rc = NativeMethods.ob_vault_open(out vault, Utf8.ToNative(path));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                vault.Dispose();
                throw failure;
            }
            return vault;
        }

        internal static string VaultName(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_name(vault));
        }

        internal static string VaultId(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_id(vault));
        }

        internal static string VaultLocation(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_location(vault));
        }

        internal static string VaultStorageType(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_storage_type(vault));
        }

        internal static DateTimeOffset VaultCreated(VaultHandle vault)
        {
            return FromUnix(NativeMethods.ob_vault_created(vault));
        }

        internal static int VaultFormatVersion(VaultHandle vault)
        {
            return NativeMethods.ob_vault_format_version(vault);
        }

        internal static long VaultServerCount(VaultHandle vault)
        {
            UIntPtr count;
            Check(NativeMethods.ob_vault_server_count(out count, vault));
            return (long)count.ToUInt64();
        }

        internal static string VaultCredentialsIssue(VaultHandle vault, string outputDir, int validityDays)
        {
            IntPtr path;
            int rc = NativeMethods.ob_vault_credentials_issue(out path, vault, Utf8.ToNative(outputDir), validityDays);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(path);
                throw failure;
            }
            return Utf8.TakeOwned(path);
        }

        internal static string VaultSecurityPinNew(VaultHandle vault, out DateTimeOffset expires)
        {
            IntPtr pin;
            long when;
            int rc = NativeMethods.ob_vault_security_pin_new(out pin, out when, vault);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(pin);
                throw failure;
            }
            expires = FromUnix(when);
            return Utf8.TakeOwned(pin);
        }

        // agent.h

        /// <summary>Open the agent; home null means OBAGENT_HOME or the default state folder.</summary>
        internal static AgentHandle AgentOpen(string home)
        {
            AgentHandle agent;
            int rc = NativeMethods.ob_agent_open(out agent, Utf8.ToNative(home));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                agent.Dispose();
                throw failure;
            }
            return agent;
        }

        internal static string AgentHome(AgentHandle agent)
        {
            return Utf8.FromNative(NativeMethods.ob_agent_home(agent));
        }

        internal static string AgentServerName(AgentHandle agent)
        {
            return Utf8.FromNative(NativeMethods.ob_agent_server_name(agent));
        }

        private static RegistrationInfo TakeRegistration(IntPtr p)
        {
            try
            {
                var raw = (ObRegistrationNative)Marshal.PtrToStructure(p, typeof(ObRegistrationNative));
                return new RegistrationInfo
                {
                    VaultName = Utf8.FromNative(raw.vault_name),
                    VaultId = Utf8.FromNative(raw.vault_id),
                    VaultLocation = Utf8.FromNative(raw.vault_location),
                    StorageType = Utf8.FromNative(raw.storage_type),
                    ServerName = Utf8.FromNative(raw.server_name),
                    ServerId = Utf8.FromNative(raw.server_id),
                    RegisteredAt = FromUnix(raw.registered_at),
                };
            }
            finally
            {
                NativeMethods.ob_registration_free(p);
            }
        }

        internal static RegistrationInfo AgentRegister(AgentHandle agent, string credentialsPath)
        {
            IntPtr reg;
            int rc = NativeMethods.ob_agent_register(out reg, agent, Utf8.ToNative(credentialsPath));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_registration_free(reg);
                throw failure;
            }
            return TakeRegistration(reg);
        }

        /// <summary>The current registration, or null when the server is not registered (OB_ENOTREG).</summary>
        internal static RegistrationInfo AgentRegistration(AgentHandle agent)
        {
            IntPtr reg;
            int rc = NativeMethods.ob_agent_registration(out reg, agent);
            if (rc == -14)
            {
                NativeMethods.ob_registration_free(reg);
                NativeMethods.ob_error_clear();
                return null;
            }
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_registration_free(reg);
                throw failure;
            }
            return TakeRegistration(reg);
        }

        internal static void AgentSetPassphrase(AgentHandle agent, SecretBytes passphrase, string securityPin)
        {
            Check(NativeMethods.ob_agent_set_passphrase(agent, passphrase.Pointer,
                new UIntPtr((uint)passphrase.Length), Utf8.ToNative(securityPin)));
        }

        internal static MachineSettingsInfo AgentSettings(AgentHandle agent)
        {
            IntPtr p;
            int rc = NativeMethods.ob_agent_settings(out p, agent);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_machine_settings_free(p);
                throw failure;
            }
            try
            {
                var raw = (ObMachineSettingsNative)Marshal.PtrToStructure(p, typeof(ObMachineSettingsNative));
                return new MachineSettingsInfo
                {
                    ProxyEnabled = raw.proxy_enabled != 0,
                    ProxyServer = Utf8.FromNative(raw.proxy_server),
                    ProxyPort = raw.proxy_port,
                    ProxyUsername = Utf8.FromNative(raw.proxy_username),
                    ProxyHasPassword = raw.proxy_has_password != 0,
                    EncryptionKeySet = raw.encryption_key_set != 0,
                    ThrottleEnabled = raw.throttle_enabled != 0,
                    WorkDays = raw.work_days,
                    StartWorkMinute = raw.start_work_minute,
                    EndWorkMinute = raw.end_work_minute,
                    WorkHourBandwidth = raw.work_hour_bandwidth,
                    NonWorkHourBandwidth = raw.non_work_hour_bandwidth,
                };
            }
            finally
            {
                NativeMethods.ob_machine_settings_free(p);
            }
        }

        /// <summary>Use a proxy; password may be null (no password).</summary>
        internal static void AgentSetProxy(AgentHandle agent, string server, int port, string username, SecretBytes password)
        {
            Check(NativeMethods.ob_agent_set_proxy(agent, Utf8.ToNative(server), port, Utf8.ToNative(username),
                password == null ? IntPtr.Zero : password.Pointer,
                new UIntPtr(password == null ? 0u : (uint)password.Length)));
        }

        internal static void AgentSetNoProxy(AgentHandle agent)
        {
            Check(NativeMethods.ob_agent_set_no_proxy(agent));
        }

        internal static void AgentSetThrottle(AgentHandle agent, uint workDays, int startMinute, int endMinute,
            uint workBandwidth, uint nonWorkBandwidth)
        {
            Check(NativeMethods.ob_agent_set_throttle(agent, workDays, startMinute, endMinute, workBandwidth, nonWorkBandwidth));
        }

        internal static void AgentSetNoThrottle(AgentHandle agent)
        {
            Check(NativeMethods.ob_agent_set_no_throttle(agent));
        }
    }
}
