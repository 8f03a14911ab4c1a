using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBRecoverableSource: the backed-up data sources of this server, or with -Server (from
    /// Get-OBAlternateBackupServer) of another server of the same vault. Needs no passphrase:
    /// data sources are named in the clear.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBRecoverableSource")]
    [OutputType(typeof(OBRecoverableSource))]
    public sealed class GetOBRecoverableSourceCommand : OBCmdletBase
    {
        [Parameter(Position = 0, ValueFromPipeline = true)]
        public OBBackupServer Server { get; set; }

        /// <summary>MARS's cross-region restore. obagent's vault has one region: a warning, and the
        /// same sources are listed.</summary>
        [Parameter]
        public SwitchParameter UseSecondaryRegion { get; set; }

        protected override object ErrorTarget
        {
            get { return Server; }
        }

        protected override void Execute()
        {
            if (UseSecondaryRegion.IsPresent)
                WriteWarning("This vault has one region only (obagent has no secondary region): -UseSecondaryRegion lists the same sources as without it.");
            string other = Server == null || Server.IsThisServer ? null : Server.ServerName;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                foreach (RecoverySourceInfo s in Native.RecoverySources(agent, other))
                {
                    WriteObject(new OBRecoverableSource
                    {
                        FriendlyName = s.Name,
                        RecoverySourceName = s.Name,
                        ServerName = s.ServerName,
                        DatasourceId = s.DatasourceId,
                        Kind = s.Kind,
                        OtherServer = other,
                    });
                }
            }
        }
    }
}
