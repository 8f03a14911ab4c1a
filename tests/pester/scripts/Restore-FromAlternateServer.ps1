# Restores a folder of another server of the vault to a folder here (steps H.2-H.3, Microsoft's
# alternate-server sample): the server from element [2], its points listed without its passphrase,
# which only Start-OBRecovery takes.
param(
    [Parameter(Mandatory)] [string] $VaultCredentials,
    [Parameter(Mandatory)] [string] $ServerName,
    [Parameter(Mandatory)] [string] $RelativePath,
    [Parameter(Mandatory)] [string] $Destination,
    [Parameter(Mandatory)] [string] $Passphrase)
$ErrorActionPreference = 'Stop'
Import-Module MSOnlineBackup
$server = (Get-OBAlternateBackupServer -VaultCredentials $VaultCredentials)[2] | Where-Object ServerName -eq $ServerName
if (-not $server) { throw "server $ServerName is not registered to this vault" }
$source = Get-OBRecoverableSource -Server $server
$rps = Get-OBRecoverableItem -Source $source[0]
"Latest recovery point: $($rps[0].PointInTime)"
$item = New-OBRecoverableItem -OBRecoverableItem $rps[0] -RelativePath $RelativePath -IsDir $true
$ro = New-OBRecoveryOption -DestinationPath $Destination -OverwriteType Overwrite
$pwd = ConvertTo-SecureString -String $Passphrase -AsPlainText -Force
Start-OBRecovery -RecoverableItem $item -RecoveryOption $ro -EncryptionPassphrase $pwd
