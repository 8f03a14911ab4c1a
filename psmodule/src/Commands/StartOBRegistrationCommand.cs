using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Start-OBRegistration: register this server with the vault named by a vault credentials
    /// file. As MARS, the path must be absolute (it is not resolved against the current location).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "OBRegistration", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(string))]
    public sealed class StartOBRegistrationCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string VaultCredentials { get; set; }

        protected override object ErrorTarget
        {
            get { return VaultCredentials; }
        }

        protected override void Execute()
        {
            if (!IsFullyQualified(VaultCredentials))
            {
                ThrowError(string.Format(
                    "The vault credentials path '{0}' is not an absolute path. Give the absolute path of the .VaultCredentials file, for example {1}.",
                    VaultCredentials, System.IO.Path.Combine(SessionState.Path.CurrentFileSystemLocation.ProviderPath, VaultCredentials)),
                    "VaultCredentialsPathNotAbsolute", ErrorCategory.InvalidArgument, VaultCredentials);
                return;
            }
            if (!ShouldProcess(VaultCredentials, "Register this server with the vault named in the vault credentials file"))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                RegistrationInfo reg = Native.AgentRegister(agent, VaultCredentials);
                WriteObject("ServiceResourceName : " + reg.VaultName);
                WriteObject("VaultId : " + reg.VaultId);
                WriteObject("StorageLocation : " + reg.VaultLocation);
                WriteObject("ServerName : " + reg.ServerName);
                WriteObject("Machine registration succeeded.");
            }
        }
    }
}
