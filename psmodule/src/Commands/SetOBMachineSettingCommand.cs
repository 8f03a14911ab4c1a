using System;
using System.Management.Automation;
using System.Security;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Set-OBMachineSetting: the encryption passphrase, throttling or proxy of this server, one
    /// parameter set each (as MSOnlineBackup). Secrets stay SecureString until the native call
    /// and their plain copies are zeroed right after it (Interop/SecretBytes.cs).
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "OBMachineSetting", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(string))]
    public sealed class SetOBMachineSettingCommand : OBCmdletBase
    {
        private const string PassphraseSet = "EncryptionPassphrase";
        private const string ThrottleSet = "Throttle";
        private const string NoProxySet = "NoProxy";
        private const string NoThrottleSet = "NoThrottle";
        private const string ProxySet = "Proxy";

        internal const string Success = "Server properties updated successfully.";

        internal const string FirstPassphraseWarning =
            "The encryption passphrase is the only way to read this server's backups, and obagent does not keep it: " +
            "if the passphrase is lost, the backed-up data is lost. Keep it now somewhere other than this server.";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PassphraseSet, ValueFromPipeline = true)]
        [ValidateNotNull]
        public SecureString EncryptionPassphrase { get; set; }

        [Parameter(ParameterSetName = PassphraseSet)]
        [AllowNull]
        [AllowEmptyString]
        public string SecurityPin { get; set; }

        /// <summary>
        /// MARS saves the passphrase to a file in this folder. obagent never stores the passphrase
        /// (docs/SECURITY.md): it writes a note with no secret in it when the folder exists, and warns.
        /// </summary>
        [Parameter(ParameterSetName = PassphraseSet)]
        public string PassphraseSaveLocation { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ThrottleSet)]
        [ValidateNotNullOrEmpty]
        public DayOfWeek[] WorkDay { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ThrottleSet)]
        public TimeSpan StartWorkHour { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ThrottleSet)]
        public TimeSpan EndWorkHour { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ThrottleSet)]
        public uint WorkHourBandwidth { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ThrottleSet)]
        public uint NonWorkHourBandwidth { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = NoProxySet)]
        public SwitchParameter NoProxy { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = NoThrottleSet)]
        public SwitchParameter NoThrottle { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ProxySet)]
        [ValidateNotNullOrEmpty]
        public string ProxyServer { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ProxySet)]
        [ValidateRange(1, 65535)]
        public int ProxyPort { get; set; }

        [Parameter(ParameterSetName = ProxySet)]
        public string ProxyUsername { get; set; }

        [Parameter(ParameterSetName = ProxySet)]
        public SecureString ProxyPassword { get; set; }

        protected override void Execute()
        {
            string server = ServerNameHint();
            switch (ParameterSetName)
            {
                case PassphraseSet:
                    if (ShouldProcess(server, "Set the encryption passphrase"))
                        SetPassphrase();
                    break;
                case ThrottleSet:
                    if (ShouldProcess(server, string.Format("Throttle transfers on {0} {1}-{2} to {3} B/s, else {4} B/s",
                            string.Join(",", WorkDay), StartWorkHour, EndWorkHour, WorkHourBandwidth, NonWorkHourBandwidth)))
                        SetThrottle();
                    break;
                case NoThrottleSet:
                    if (ShouldProcess(server, "Do not throttle transfers"))
                        Apply(Native.AgentSetNoThrottle);
                    break;
                case NoProxySet:
                    if (ShouldProcess(server, "Use no proxy"))
                        Apply(Native.AgentSetNoProxy);
                    break;
                case ProxySet:
                    if (ShouldProcess(server, string.Format("Use the proxy {0}:{1}", ProxyServer, ProxyPort)))
                        SetProxy();
                    break;
            }
        }

        private void Apply(Action<AgentHandle> change)
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                change(agent);
            }
            WriteObject(Success);
        }

        private void SetPassphrase()
        {
            // MARS scripts pass -SecurityPin " " at first registration: blank means no PIN.
            string pin = string.IsNullOrWhiteSpace(SecurityPin) ? null : SecurityPin.Trim();
            bool first;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                first = !Native.AgentSettings(agent).EncryptionKeySet;
                using (SecretBytes secret = SecretBytes.FromSecureString(EncryptionPassphrase))
                {
                    Native.AgentSetPassphrase(agent, secret, pin);
                }
            }
            if (first)
                WriteWarning(FirstPassphraseWarning);
            if (MyInvocation.BoundParameters.ContainsKey("PassphraseSaveLocation"))
                WritePassphraseNote();
            WriteObject(Success);
        }

        internal const string PassphraseNoteName = "OBAgent-PassphraseNotSaved.txt";

        private void WritePassphraseNote()
        {
            string dir = null;
            try
            {
                if (!string.IsNullOrWhiteSpace(PassphraseSaveLocation))
                    dir = SessionState.Path.GetUnresolvedProviderPathFromPSPath(PassphraseSaveLocation);
            }
            catch (Exception ex) when (ex is ItemNotFoundException || ex is DriveNotFoundException || ex is ProviderNotFoundException || ex is NotSupportedException)
            {
                dir = null; // a Windows path such as C:\Keys on this server: nothing to write into
            }
            if (dir != null && System.IO.Directory.Exists(dir))
            {
                string note = System.IO.Path.Combine(dir, PassphraseNoteName);
                System.IO.File.WriteAllText(note,
                    "obagent does not save the encryption passphrase (MARS would save it in this folder).\n" +
                    "Keep the passphrase somewhere other than this server: without it the backups cannot be read.\n");
                WriteWarning("-PassphraseSaveLocation: obagent does not save the passphrase; " + note +
                    " says so and holds no secret. Keep the passphrase somewhere other than this server.");
            }
            else
            {
                WriteWarning("-PassphraseSaveLocation: obagent does not save the passphrase and wrote nothing ('" +
                    PassphraseSaveLocation + "' is not an existing folder). Keep the passphrase somewhere other than this server.");
            }
        }

        private void SetThrottle()
        {
            uint days = 0;
            foreach (DayOfWeek d in WorkDay)
                days |= 1u << (int)d;
            int start = (int)Math.Floor(StartWorkHour.TotalMinutes);
            int end = (int)Math.Floor(EndWorkHour.TotalMinutes);
            Apply(agent => Native.AgentSetThrottle(agent, days, start, end, WorkHourBandwidth, NonWorkHourBandwidth));
        }

        private void SetProxy()
        {
            string user = string.IsNullOrEmpty(ProxyUsername) ? null : ProxyUsername;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                if (ProxyPassword == null || ProxyPassword.Length == 0)
                {
                    Native.AgentSetProxy(agent, ProxyServer, ProxyPort, user, null);
                }
                else
                {
                    using (SecretBytes secret = SecretBytes.FromSecureString(ProxyPassword))
                    {
                        Native.AgentSetProxy(agent, ProxyServer, ProxyPort, user, secret);
                    }
                }
            }
            WriteObject(Success);
        }
    }
}
