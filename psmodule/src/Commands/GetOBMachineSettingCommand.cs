using System;
using System.Collections.Generic;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>Get-OBMachineSetting: proxy, throttling and encryption state of this server.</summary>
    [Cmdlet(VerbsCommon.Get, "OBMachineSetting")]
    [OutputType(typeof(OBMachineSetting))]
    public sealed class GetOBMachineSettingCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                MachineSettingsInfo s = Native.AgentSettings(agent);
                RegistrationInfo reg = Native.AgentRegistration(agent);
                var days = new List<DayOfWeek>();
                for (int d = 0; d < 7; d++)
                {
                    if ((s.WorkDays & (1u << d)) != 0)
                        days.Add((DayOfWeek)d);
                }
                WriteObject(new OBMachineSetting
                {
                    ServerName = Native.AgentServerName(agent),
                    VaultName = reg != null ? reg.VaultName : null,
                    VaultId = reg != null ? reg.VaultId : null,
                    ProxySetting = new OBProxySetting
                    {
                        Enabled = s.ProxyEnabled,
                        ProxyServer = s.ProxyServer,
                        ProxyPort = s.ProxyPort,
                        ProxyUsername = s.ProxyUsername,
                        HasProxyPassword = s.ProxyHasPassword,
                    },
                    EncryptionSetting = new OBEncryptionSetting
                    {
                        EncryptionKeyStatus = s.EncryptionKeySet ? EncryptionKeyStatus.Set : EncryptionKeyStatus.NotSet,
                    },
                    ThrottleSetting = new OBThrottleSetting
                    {
                        Enabled = s.ThrottleEnabled,
                        WorkDay = days.ToArray(),
                        StartWorkHour = TimeSpan.FromMinutes(s.StartWorkMinute),
                        EndWorkHour = TimeSpan.FromMinutes(s.EndWorkMinute),
                        WorkHourBandwidth = s.WorkHourBandwidth,
                        NonWorkHourBandwidth = s.NonWorkHourBandwidth,
                    },
                });
            }
        }
    }
}
