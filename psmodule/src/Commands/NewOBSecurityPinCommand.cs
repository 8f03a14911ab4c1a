using System;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>New-OBSecurityPin: issue a security PIN (8 digits, valid 5 minutes) from a vault, local or on Azure.</summary>
    [Cmdlet(VerbsCommon.New, "OBSecurityPin", DefaultParameterSetName = AzureVault.PathSet)]
    [OutputType(typeof(OBSecurityPin))]
    public sealed class NewOBSecurityPinCommand : OBVaultCmdletBase
    {
        protected override void Execute()
        {
            using (VaultHandle vault = OpenVault())
            {
                DateTimeOffset expires;
                string pin = Native.VaultSecurityPinNew(vault, out expires);
                WriteObject(new OBSecurityPin { SecurityPin = pin, ExpiryTime = expires.LocalDateTime });
            }
        }
    }
}
