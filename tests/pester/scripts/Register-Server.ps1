# Registers this server to the vault and sets the network and encryption settings (Microsoft's
# documented steps C.7-C.9: -SecurityPin " " at first registration).
param([Parameter(Mandatory)] [string] $VaultCredentials, [Parameter(Mandatory)] [string] $Passphrase)
$ErrorActionPreference = 'Stop'
Import-Module MSOnlineBackup
Start-OBRegistration -VaultCredentials $VaultCredentials -Confirm:$false
Set-OBMachineSetting -NoProxy
Set-OBMachineSetting -NoThrottle
$pp = ConvertTo-SecureString -String $Passphrase -AsPlainText -Force
Set-OBMachineSetting -EncryptionPassPhrase $pp -SecurityPin " "
$s = Get-OBMachineSetting
if ($s.EncryptionSetting.EncryptionKeyStatus -ne 'Set') { throw 'Passphrase not set' }
'Registered; encryption ' + $s.EncryptionSetting.EncryptionKeyStatus
