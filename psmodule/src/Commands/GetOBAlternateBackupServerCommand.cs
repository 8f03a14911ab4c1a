using System;
using System.IO;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBAlternateBackupServer: the other servers registered to this server's vault, whose
    /// backups this server can restore with their passphrase (Get-OBRecoverableSource -Server).
    /// -VaultCredentials is accepted for MARS scripts; the vault is always the one this server is
    /// registered to, so the file is only checked to be an absolute path of an existing file.
    ///
    /// Refusals made here: VaultCredentialsPathNotAbsolute (InvalidArgument), VaultCredentialsNotFound
    /// (ObjectNotFound).
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBAlternateBackupServer")]
    [OutputType(typeof(OBBackupServer))]
    public sealed class GetOBAlternateBackupServerCommand : OBCmdletBase
    {
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string VaultCredentials { get; set; }

        protected override void Execute()
        {
            if (VaultCredentials != null)
            {
                if (!IsFullyQualified(VaultCredentials))
                {
                    ThrowError(string.Format("The vault credentials path '{0}' is not an absolute path. Give the absolute path of the .VaultCredentials file.",
                        VaultCredentials), "VaultCredentialsPathNotAbsolute", ErrorCategory.InvalidArgument, VaultCredentials);
                    return;
                }
                if (!File.Exists(VaultCredentials))
                {
                    ThrowError(string.Format("The vault credentials file '{0}' does not exist.", VaultCredentials),
                        "VaultCredentialsNotFound", ErrorCategory.ObjectNotFound, VaultCredentials);
                    return;
                }
            }
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                foreach (BackupServerInfo s in Native.BackupServers(agent))
                {
                    if (s.IsThisServer)
                        continue;
                    WriteObject(new OBBackupServer
                    {
                        ServerName = s.ServerName,
                        ServerId = s.ServerId,
                        RegisteredTime = DateTimeOffset.FromUnixTimeSeconds(s.RegisteredAt).LocalDateTime,
                        IsThisServer = false,
                    });
                }
            }
        }
    }
}
