using System;

namespace OBAgent
{
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
}
