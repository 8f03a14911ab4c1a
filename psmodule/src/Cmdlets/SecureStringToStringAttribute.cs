using System.Management.Automation;
using System.Security;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Lets a string parameter take a SecureString too (MARS-style scripts pass a storage account
    /// key as a plain string; a careful script passes a SecureString). The SecureString is read
    /// into a string only for the call.
    /// </summary>
    internal sealed class SecureStringToStringAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject ? ((PSObject)inputData).BaseObject : inputData;
            var secure = value as SecureString;
            if (secure == null)
                return inputData;
            return SecretBytes.ToPlainString(secure);
        }
    }
}
