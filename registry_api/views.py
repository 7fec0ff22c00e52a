from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def base(request):
    response = JsonResponse({})
    response["Docker-Distribution-API-Version"] = "registry/2.0"
    return response
