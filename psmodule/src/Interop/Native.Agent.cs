using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // agent.h

        /// <summary>Open the agent; home null means OBAGENT_HOME or the default state folder.</summary>
        internal static AgentHandle AgentOpen(string home)
        {
            return Open((out AgentHandle agent) => NativeMethods.ob_agent_open(out agent, Utf8.ToNative(home)));
        }

        internal static string AgentHome(AgentHandle agent)
        {
            return Utf8.FromNative(NativeMethods.ob_agent_home(agent));
        }

        internal static string AgentServerName(AgentHandle agent)
        {
            return Utf8.FromNative(NativeMethods.ob_agent_server_name(agent));
        }

        private static RegistrationInfo ReadRegistration(IntPtr p)
        {
            var raw = Marshal.PtrToStructure<ObRegistrationNative>(p);
            return new RegistrationInfo
            {
                VaultName = Utf8.FromNative(raw.vault_name),
                VaultId = Utf8.FromNative(raw.vault_id),
                VaultLocation = EnginePath.FromNativePointer(raw.vault_location),
                StorageType = Utf8.FromNative(raw.storage_type),
                ServerName = Utf8.FromNative(raw.server_name),
                ServerId = Utf8.FromNative(raw.server_id),
                RegisteredAt = FromUnix(raw.registered_at),
            };
        }

        internal static RegistrationInfo AgentRegister(AgentHandle agent, string credentialsPath)
        {
            return Take((out IntPtr reg) => NativeMethods.ob_agent_register(out reg, agent, Utf8.ToNative(credentialsPath)),
                NativeMethods.ob_registration_free, ReadRegistration);
        }

        /// <summary>The vault id and name a credentials file names, read without registering (ob_credentials_vault).</summary>
        internal static string CredentialsVault(string credentialsPath, out string vaultName)
        {
            IntPtr id, name;
            int rc = NativeMethods.ob_credentials_vault(out id, out name, Utf8.ToNative(credentialsPath));
            try
            {
                if (rc < 0)
                    throw Failure(rc);
                vaultName = Utf8.FromNative(name);
                return Utf8.FromNative(id);
            }
            finally
            {
                NativeMethods.ob_str_free(id);
                NativeMethods.ob_str_free(name);
            }
        }

        /// <summary>The current registration, or null when the server is not registered (OB_ENOTREG).</summary>
        internal static RegistrationInfo AgentRegistration(AgentHandle agent)
        {
            return Take((out IntPtr reg) => NativeMethods.ob_agent_registration(out reg, agent),
                NativeMethods.ob_registration_free, ReadRegistration, ErrorCode.NotRegistered);
        }

        internal static void AgentSetPassphrase(AgentHandle agent, SecretBytes passphrase, string securityPin)
        {
            Check(NativeMethods.ob_agent_set_passphrase(agent, passphrase.Pointer,
                new UIntPtr((uint)passphrase.Length), Utf8.ToNative(securityPin)));
        }

        /// <summary>
        /// Whether passphrase is this server's current one (ob_agent_check_passphrase): true when it
        /// opens the server's newest key record, false for OB_EPASSPHRASE; any other failure
        /// (OB_ENOKEY: none set, OB_EINVALID, OB_ENOTREG) throws.
        /// </summary>
        internal static bool AgentCheckPassphrase(AgentHandle agent, SecretBytes passphrase)
        {
            int rc = NativeMethods.ob_agent_check_passphrase(agent, passphrase.Pointer, new UIntPtr((uint)passphrase.Length));
            if (rc == (int)ErrorCode.Passphrase)
                return false;
            Check(rc);
            return true;
        }

        private static MachineSettingsInfo ReadMachineSettings(IntPtr p)
        {
            var raw = Marshal.PtrToStructure<ObMachineSettingsNative>(p);
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

        internal static MachineSettingsInfo AgentSettings(AgentHandle agent)
        {
            return Take((out IntPtr p) => NativeMethods.ob_agent_settings(out p, agent),
                NativeMethods.ob_machine_settings_free, ReadMachineSettings);
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
