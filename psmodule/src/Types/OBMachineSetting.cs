using System;

namespace OBAgent
{
    /// <summary>Whether an encryption passphrase has been set on this server.</summary>
    public enum EncryptionKeyStatus
    {
        NotSet = 0,
        Set = 1,
    }

    /// <summary>The proxy part of OBMachineSetting.</summary>
    public sealed class OBProxySetting
    {
        public bool Enabled { get; internal set; }

        public string ProxyServer { get; internal set; }

        public int ProxyPort { get; internal set; }

        public string ProxyUsername { get; internal set; }

        /// <summary>Whether a proxy password is stored (the password itself is never shown).</summary>
        public bool HasProxyPassword { get; internal set; }

        public override string ToString()
        {
            return Enabled ? string.Format("{0}:{1}", ProxyServer, ProxyPort) : "No proxy";
        }
    }

    /// <summary>The encryption part of OBMachineSetting.</summary>
    public sealed class OBEncryptionSetting
    {
        public EncryptionKeyStatus EncryptionKeyStatus { get; internal set; }

        public override string ToString()
        {
            return EncryptionKeyStatus.ToString();
        }
    }

    /// <summary>The throttling part of OBMachineSetting. Bandwidths are in bytes per second.</summary>
    public sealed class OBThrottleSetting
    {
        public bool Enabled { get; internal set; }

        public DayOfWeek[] WorkDay { get; internal set; }

        public TimeSpan StartWorkHour { get; internal set; }

        public TimeSpan EndWorkHour { get; internal set; }

        public uint WorkHourBandwidth { get; internal set; }

        public uint NonWorkHourBandwidth { get; internal set; }

        public override string ToString()
        {
            if (!Enabled)
                return "No throttling";
            return string.Format("{0} {1}-{2}: {3} / {4} B/s", string.Join(",", WorkDay), StartWorkHour,
                EndWorkHour, WorkHourBandwidth, NonWorkHourBandwidth);
        }
    }

    /// <summary>The machine settings, as Get-OBMachineSetting shows them.</summary>
    public sealed class OBMachineSetting
    {
        public OBProxySetting ProxySetting { get; internal set; }

        public OBEncryptionSetting EncryptionSetting { get; internal set; }

        public OBThrottleSetting ThrottleSetting { get; internal set; }

        public string ServerName { get; internal set; }

        /// <summary>The name of the vault this server is registered to; null when it is not registered.</summary>
        public string VaultName { get; internal set; }

        /// <summary>The id of the vault this server is registered to; null when it is not registered.</summary>
        public string VaultId { get; internal set; }
    }

    /// <summary>The vault a vault credentials file names (OBCredentialsFile.ReadVault).</summary>
    public sealed class OBCredentialsVault
    {
        public string VaultName { get; internal set; }

        public string VaultId { get; internal set; }
    }

    /// <summary>
    /// Reads a vault credentials file without registering (the DSC resource OBRegistration compares
    /// its vault with Get-OBMachineSetting's VaultId). An expired file still names its vault; the
    /// signature is not checked here (Start-OBRegistration checks it).
    /// </summary>
    public static class OBCredentialsFile
    {
        /// <summary>The vault the file at path (absolute, *.VaultCredentials) names; throws OBAgentException when it cannot be read.</summary>
        public static OBCredentialsVault ReadVault(string path)
        {
            Interop.Native.EnsureInitialized();
            string name;
            string id = Interop.Native.CredentialsVault(path, out name);
            return new OBCredentialsVault { VaultId = id, VaultName = name };
        }
    }
}
