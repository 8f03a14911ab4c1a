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
    ///
    /// Output shape (docs/MARS-SCRIPTS.md): without -VaultCredentials, one OBBackupServer per other
    /// server, so `Get-OBAlternateBackupServer | Where-Object ServerName -eq X` works. With
    /// -VaultCredentials, as MARS: two status lines first, then the server list as ONE object (an
    /// OBBackupServer[]), so Microsoft's samples `(Get-OBAlternateBackupServer -VaultCredentials $f)[2]
    /// | Where-Object ServerName -eq X` reach the list at element [2].
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
            var servers = new System.Collections.Generic.List<OBBackupServer>();
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                foreach (BackupServerInfo s in Native.BackupServers(agent))
                {
                    if (s.IsThisServer)
                        continue;
                    servers.Add(new OBBackupServer
                    {
                        ServerName = s.ServerName,
                        ServerId = s.ServerId,
                        RegisteredTime = DateTimeOffset.FromUnixTimeSeconds(s.RegisteredAt).LocalDateTime,
                        IsThisServer = false,
                    });
                }
            }
            if (VaultCredentials == null)
            {
                foreach (OBBackupServer s in servers)
                    WriteObject(s);
                return;
            }
            WriteObject("Validating the vault credentials...");
            WriteObject(string.Format("{0} other server(s) registered to the vault.", servers.Count));
            WriteObject(servers.ToArray(), false);
        }
    }
}
